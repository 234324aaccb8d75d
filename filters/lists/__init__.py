"""Block lists: parse the formats people use (hosts, plain, AdBlock, UT1 folders) and compile
them into memory-mapped domain sets, cached between runs.

`parse.parse_list` reads one list into a neutral `ParsedList`; `cache.load_list` turns it into a
`CompiledList` of `DomainSet`s and a `UrlRuleSet`, through an on-disk cache.
"""
