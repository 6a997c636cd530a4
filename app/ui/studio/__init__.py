"""The Copy studio tab, one small module per piece: :mod:`.panel` (the tab), :mod:`.brief_form`,
:mod:`.cards_row`, :mod:`.variant_card`, :mod:`.analysis_view`, :mod:`.voice_dialog`, :mod:`.clip_bar`.
The workflow behind it is :mod:`app.studio.service`, reached through the bridge (``bridge.ask``)."""

from app.ui.studio.panel import BRIEF_TAB, DRAFTS_TAB, StudioPanel
from app.ui.studio.variant_card import VariantCard
from app.ui.studio.voice_dialog import VoiceDialog

__all__ = ["BRIEF_TAB", "DRAFTS_TAB", "StudioPanel", "VariantCard", "VoiceDialog"]
