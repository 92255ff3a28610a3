"""KHM — area-based, precision poverty alleviation for Thailand."""

import os

# openpyxl writes XLSX through lxml when lxml is installed (python-docx brings it), and then
# stores Thai text as numeric character references (&#3626;…). Excel reads those, but
# python-calamine (our XLSX reader) returns them verbatim, so a file KHM wrote — an import's
# error report, say — would not read back. The standard-library writer stores UTF-8.
os.environ.setdefault("OPENPYXL_LXML", "False")
