"""Settings > Voice: who speaks the answers (the offline voice or a cloud service), which voice,
how fast, a Test button that speaks a sample, and the voices by language (which voice speaks
which language, and Piper voices to download: `voices_by_language.py`)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from assistant.config import Settings
from assistant.ui.check_result import CheckResult
from assistant.ui.settings_actions import SettingsActions
from assistant.ui.settings_page import SettingsPage, combo_value
from assistant.ui.tasks import BackgroundTasks
from assistant.ui.translation import QT_TRANSLATE_NOOP
from assistant.ui.voices_by_language import VoicesByLanguage

BUNDLED_VOICE = "bundled"
OPENAI_VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage",
                 "shimmer"]  # fmt: skip
# The labels are shown through tr().
PROVIDERS = [
    (
        "piper",
        QT_TRANSLATE_NOOP("VoicePage", "Offline voice on this computer (Piper, no account needed)"),
    ),
    ("openai", QT_TRANSLATE_NOOP("VoicePage", "OpenAI-compatible speech service")),
    ("volcano", QT_TRANSLATE_NOOP("VoicePage", "Volcano Engine (ByteDance) speech, v1")),
    (
        "volcano_v3",
        QT_TRANSLATE_NOOP("VoicePage", "Volcano Engine (ByteDance) speech, v3 streaming"),
    ),
]


def _speed(low: float, high: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(0.05)
    spin.setDecimals(2)
    spin.setSuffix(" ×")
    return spin


class VoicePage(SettingsPage):
    title = QT_TRANSLATE_NOOP("VoicePage", "Voice")

    def __init__(
        self, actions: SettingsActions | None = None, tasks: BackgroundTasks | None = None
    ) -> None:
        """`actions` and `tasks` serve the voices by language (installed voices, the catalogue,
        downloads, samples); without them that part offers the cloud voices only."""
        super().__init__()
        self.provider = QComboBox()
        for name, label in PROVIDERS:
            self.provider.addItem(self.tr(label), name)
        self.add_field(self.tr("&Voice service:"), "tts.provider", self.provider)
        # One form per service; only the chosen one is shown (and takes room).
        self.pages: list[QWidget] = []
        self._build_piper()
        self._build_openai()
        self._build_volcano()
        self._build_volcano_v3()
        self.test_button = QPushButton(self.tr("&Play a sample"))
        self.result = CheckResult()
        test_line = QHBoxLayout()
        test_line.addWidget(self.test_button)
        test_line.addStretch(1)
        self.form.addRow("", test_line)
        self.form.addRow("", self.result)
        self.by_language = VoicesByLanguage(actions, tasks)
        self.add_field(
            self.tr("&Languages:"),
            "tts.voices",
            self.by_language,
            self.tr(
                "One voice per language; the voice service above speaks the others. A sentence in "
                "a language no voice speaks is shown, not spoken."
            ),
        )
        self.provider.currentIndexChanged.connect(self._show_provider)

    def _sub_form(self) -> QFormLayout:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.pages.append(page)
        self.form.addRow(page)
        return form

    def _show_provider(self) -> None:
        for index, page in enumerate(self.pages):
            page.setVisible(index == self.provider.currentIndex())

    def _build_piper(self) -> None:
        form = self._sub_form()
        self.piper_voice = QComboBox()
        self.piper_voice.setEditable(True)
        self.piper_voice.addItem(self.tr("Bundled: Joe (US English)"), BUNDLED_VOICE)
        browse = QPushButton(self.tr("&File…"))
        browse.setAccessibleName(self.tr("Choose a Piper voice file"))
        browse.clicked.connect(self._choose_piper_voice)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.piper_voice, 1)
        line.addWidget(browse)
        self.add_field(
            self.tr("V&oice:"),
            "tts.piper.voice",
            row,
            self.tr("The bundled voice, or a Piper .onnx file."),
            form,
        )
        self.piper_voice.setAccessibleName(self.tr("Voice"))
        self.piper_speed = _speed(0.25, 4.0)
        self._piper_speed_shown = 1.0
        self.add_field(self.tr("&Speed:"), "tts.piper.length_scale", self.piper_speed, form=form)

    def _build_openai(self) -> None:
        form = self._sub_form()
        self.openai_url = QLineEdit()
        self.openai_model = QLineEdit()
        self.openai_voice = QComboBox()
        self.openai_voice.setEditable(True)
        self.openai_voice.addItems(OPENAI_VOICES)
        self.openai_speed = _speed(0.25, 4.0)
        self.add_field(self.tr("&Address:"), "tts.openai.base_url", self.openai_url, form=form)
        self.add_field(self.tr("&Model:"), "tts.openai.model", self.openai_model, form=form)
        self.add_field(self.tr("V&oice:"), "tts.openai.voice", self.openai_voice, form=form)
        self.add_field(self.tr("&Speed:"), "tts.openai.speed", self.openai_speed, form=form)

    def _build_volcano(self) -> None:
        form = self._sub_form()
        self.volcano_endpoint = QLineEdit()
        self.volcano_appid = QLineEdit()
        self.volcano_cluster = QLineEdit()
        self.volcano_voice = QLineEdit()
        self.volcano_speed = _speed(0.8, 2.0)
        self.add_field(
            self.tr("&Address:"), "tts.volcano.endpoint", self.volcano_endpoint, form=form
        )
        self.add_field(self.tr("App &ID:"), "tts.volcano.appid", self.volcano_appid, form=form)
        self.add_field(self.tr("&Cluster:"), "tts.volcano.cluster", self.volcano_cluster, form=form)
        self.add_field(
            self.tr("V&oice type:"), "tts.volcano.voice_type", self.volcano_voice, form=form
        )
        self.add_field(self.tr("&Speed:"), "tts.volcano.speed_ratio", self.volcano_speed, form=form)

    def _build_volcano_v3(self) -> None:
        form = self._sub_form()
        self.v3_endpoint = QLineEdit()
        self.v3_appid = QLineEdit()
        self.v3_resource = QLineEdit()
        self.v3_speaker = QLineEdit()
        self.add_field(self.tr("&Address:"), "tts.volcano_v3.endpoint", self.v3_endpoint, form=form)
        self.add_field(self.tr("App &ID:"), "tts.volcano_v3.appid", self.v3_appid, form=form)
        self.add_field(
            self.tr("&Resource ID:"), "tts.volcano_v3.resource_id", self.v3_resource, form=form
        )
        self.add_field(
            self.tr("V&oice (speaker):"), "tts.volcano_v3.speaker", self.v3_speaker, form=form
        )

    def load(self, settings: Settings) -> None:
        tts = settings.tts
        self.provider.setCurrentIndex(max(0, self.provider.findData(tts.provider)))
        self._show_provider()
        index = self.piper_voice.findData(tts.piper.voice)
        if index >= 0:
            self.piper_voice.setCurrentIndex(index)
        else:
            self.piper_voice.setEditText(tts.piper.voice)
        self.piper_speed.setValue(1.0 / tts.piper.length_scale)
        self._piper_speed_shown = self.piper_speed.value()  # rounded: store only real changes
        self.openai_url.setText(tts.openai.base_url)
        self.openai_model.setText(tts.openai.model)
        self.openai_voice.setEditText(tts.openai.voice)
        self.openai_speed.setValue(tts.openai.speed)
        self.volcano_endpoint.setText(tts.volcano.endpoint)
        self.volcano_appid.setText(tts.volcano.appid)
        self.volcano_cluster.setText(tts.volcano.cluster)
        self.volcano_voice.setText(tts.volcano.voice_type)
        self.volcano_speed.setValue(tts.volcano.speed_ratio)
        self.v3_endpoint.setText(tts.volcano_v3.endpoint)
        self.v3_appid.setText(tts.volcano_v3.appid)
        self.v3_resource.setText(tts.volcano_v3.resource_id)
        self.v3_speaker.setText(tts.volcano_v3.speaker)
        self.by_language.load(tts.chosen_voices())

    def store(self, settings: Settings) -> None:
        tts = settings.tts
        tts.provider = self.provider.currentData()
        tts.piper.voice = combo_value(self.piper_voice)
        if self.piper_speed.value() != self._piper_speed_shown:
            tts.piper.length_scale = round(1.0 / self.piper_speed.value(), 3)
        tts.openai.base_url = self.openai_url.text().strip()
        tts.openai.model = self.openai_model.text().strip()
        tts.openai.voice = self.openai_voice.currentText().strip()
        tts.openai.speed = self.openai_speed.value()
        tts.volcano.endpoint = self.volcano_endpoint.text().strip()
        tts.volcano.appid = self.volcano_appid.text().strip()
        tts.volcano.cluster = self.volcano_cluster.text().strip()
        tts.volcano.voice_type = self.volcano_voice.text().strip()
        tts.volcano.speed_ratio = self.volcano_speed.value()
        tts.volcano_v3.endpoint = self.v3_endpoint.text().strip()
        tts.volcano_v3.appid = self.v3_appid.text().strip()
        tts.volcano_v3.resource_id = self.v3_resource.text().strip()
        tts.volcano_v3.speaker = self.v3_speaker.text().strip()
        tts.voices = self.by_language.voices()

    def _choose_piper_voice(self) -> None:
        dialog = QFileDialog(
            self, self.tr("Choose a Piper voice"), filter=self.tr("Piper voices (*.onnx)")
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.piper_voice.setEditText)
        dialog.open()
