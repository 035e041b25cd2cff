"""The county's exports for an office: the roster and the figures as .xlsx workbooks and CSV.

`layout.py` writes a sheet (title row, header, typed cells, widths, 序号 and 合计) to .xlsx or CSV;
`roster_book.py` and `figures_book.py` build the sheets; `words.py` and `figure_labels.py` hold
the Chinese words; `naming.py` the scope and the file names.
"""
