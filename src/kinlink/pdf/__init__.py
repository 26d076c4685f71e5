"""Paper: the capture and internment cards and the certificates as PDF, in two languages (ReportLab).

Pure rendering: content in (dataclasses the domain fills), bytes out. The fonts are DejaVu, which covers
Cyrillic and Romanian diacritics, from the machine's font directories (Debian's fonts-dejavu-core)."""
