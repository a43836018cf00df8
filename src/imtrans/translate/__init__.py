"""The translate stage: text segments in, translations out (see README.md in this folder).

The pipeline needs two functions: `make_translator(settings, source)` builds the
translator (backend, cache, glossary), and `translate_blocks(translator, blocks,
source, target)` runs it on a page's blocks. Backends import their heavy libraries
lazily, so importing this package stays cheap.
"""

from imtrans.translate.base import Translator
from imtrans.translate.blocks import translate_blocks
from imtrans.translate.factory import make_translator

__all__ = ["Translator", "make_translator", "translate_blocks"]
