# Amounts in the bureau's documents are grouped by thousands with commas (710,000,000),
# as in the spreadsheets clerks keep; Django's zh-Hans default prints no separator.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
