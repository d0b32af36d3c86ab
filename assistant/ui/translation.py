"""The language of the window: English as written in the code, or a shipped translation (the
compiled .qm files in resources/translations), chosen by the [ui] language setting or, on
"auto", by the system's locale. Installed once, before any window is built: Qt does not
re-label widgets that already exist, so a change applies at the next start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

ENGLISH: Final = "en"
SIMPLIFIED_CHINESE: Final = "zh_CN"
# The translations that ship (besides English, the text in the code). The [ui] language setting
# offers exactly these and "auto".
SHIPPED: Final = (SIMPLIFIED_CHINESE,)
# The app's own translations are resources/translations/assistant_<language>.qm.
FILE_PREFIX: Final = "assistant_"
# Singapore writes Simplified characters too; Taiwan, Hong Kong and Macau write Traditional,
# which is not shipped: English reads better there than the wrong script.
_SIMPLIFIED_REGIONS: Final = (QLocale.Country.China, QLocale.Country.Singapore)


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # lupdate knows this name
    """Marks `text` for translation in `context` (a class's name) where it is defined, as a
    module-level constant, before any translator is installed; the class shows it through
    `self.tr(constant)`. PySide6 has this function too, but without type hints."""
    del context
    return text


def language_for(setting: str, system: QLocale | None = None) -> str:
    """The language to show: the setting itself, or on "auto" the one that suits the system's
    locale (`system`, by default QLocale.system(), which follows LANG / LC_ALL / LANGUAGE)."""
    if setting != "auto":
        return setting
    locale = QLocale.system() if system is None else system
    chinese = locale.language() is QLocale.Language.Chinese
    if chinese and _simplified(locale):
        return SIMPLIFIED_CHINESE
    return ENGLISH


def _simplified(locale: QLocale) -> bool:
    script = locale.script()
    if script is QLocale.Script.SimplifiedHanScript:
        return True
    if script is QLocale.Script.TraditionalHanScript:
        return False
    return locale.territory() in _SIMPLIFIED_REGIONS


def install_translation(app: QCoreApplication, setting: str, folder: Path) -> str:
    """Show the window in the language `setting` asks for ("auto", "en" or "zh_CN"): loads the
    app's translation from `folder` and Qt's own (the standard buttons: OK, Cancel) on `app`.
    Returns the language now shown. A translation that cannot be loaded leaves English and
    says why in the log: the app works in English rather than not at all."""
    language = language_for(setting)
    if language == ENGLISH:
        return ENGLISH
    own = QTranslator(app)  # a child of the app: it lives as long as the app
    file = folder / f"{FILE_PREFIX}{language}.qm"
    if not own.load(str(file)):
        log.warning(
            "The %s translation of the window could not be loaded from %s; the window is in "
            "English. Reinstalling the app puts the file back.",
            language,
            file,
        )
        return ENGLISH
    app.installTranslator(own)
    _install_qt_translation(app, language)
    log.info("The window is in %s (the [ui] language setting is %r).", language, setting)
    return language


def _install_qt_translation(app: QCoreApplication, language: str) -> None:
    """Qt's own words (the standard buttons' OK, Cancel, Apply; the line edits' menus), where
    PySide6 ships them for `language`. Missing, they stay English beside translated text."""
    qt = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt.load(f"qtbase_{language}", folder):
        app.installTranslator(qt)
    else:
        log.info(
            "Qt's own %s translation is not in %s: its standard buttons stay English.",
            language,
            folder,
        )


__all__ = [
    "ENGLISH",
    "QT_TRANSLATE_NOOP",
    "FILE_PREFIX",
    "SHIPPED",
    "SIMPLIFIED_CHINESE",
    "install_translation",
    "language_for",
]
