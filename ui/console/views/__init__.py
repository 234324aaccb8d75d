"""The console's layout: widgets that show what controllers hand them and say what was clicked.

No view calls the API or decides anything; each takes ready words and numbers.
"""
