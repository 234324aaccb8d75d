"""Warning pages that the proxy serves in place of a stopped page (English and Hindi).

`render.py` is the API the proxy uses (`PageRenderer`, `PageContext`, `choose_language`,
`page_kind_for`); `packs.py` loads the locale strings and jurisdiction packs; the templates,
`locales/*.toml` and `jurisdictions/*.toml` are package data.
"""
