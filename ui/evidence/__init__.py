"""The readable page of an evidence report (`abhaya report`): one self-contained HTML file."""
