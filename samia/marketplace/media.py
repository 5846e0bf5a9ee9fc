"""What the server measures of uploaded bytes: content type, and what the type has to tell.

Audio: its duration (mutagen). Images: size, and for animated PNG, GIF and WebP the frame count
and the sum of frame durations (Pillow, every frame decoded). MP4 and WebM video: duration, size
and frames (PyAV; frames are counted by demuxing, which also finds a truncated file). GLB: the
12-byte header and a JSON chunk that parses. `sniff` takes bytes or a seekable binary file, so a
large upload is measured from its temporary file without being read into memory.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

import av
import mutagen
from PIL import Image

_SIGNATURES = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "image"),
    (b"\xff\xd8\xff", "image/jpeg", "image"),
    (b"GIF8", "image/gif", "image"),
]
_EBML = b"\x1a\x45\xdf\xa3"
_GLB_JSON, _GLB_BIN = 0x4E4F534A, 0x004E4942
# A stream that ends this much before its declared duration was cut short.
_TRUNCATION_TOLERANCE_SECONDS = 0.1

av.logging.set_level(av.logging.PANIC)  # a damaged file is reported in `problem`, not on stderr


@dataclass(frozen=True)
class Measured:
    content_type: str
    kind: str
    duration_seconds: Decimal | None
    duration_ms: int | None = None
    frame_count: int | None = None
    width: int | None = None
    height: int | None = None
    # Why bytes that begin like `content_type` do not hold a whole, readable file of it ("" when they do).
    problem: str = ""


def sniff(content: bytes | BinaryIO) -> Measured:
    """Identify `content` from its bytes alone; never from what the client claims."""
    source = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    source.seek(0)
    head = source.read(64)
    source.seek(0)
    if head.startswith(b"glTF"):
        return _glb(source)
    for magic, content_type, kind in _SIGNATURES:
        if head.startswith(magic):
            return _image(source, content_type) if kind == "image" else Measured(content_type, kind, None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _image(source, "image/webp")
    if head[4:8] == b"ftyp" or head.startswith(_EBML):
        video = _video(source, "video/webm" if b"webm" in head else "video/mp4")
        if video is not None:
            return video
        source.seek(0)  # no video stream: audio in an MP4 or WebM container, for mutagen below
    try:
        audio = mutagen.File(source)
    except Exception:  # mutagen raises many error types on bytes it cannot parse
        audio = None
    if audio is not None and getattr(audio.info, "length", None):
        content_type = audio.mime[0] if getattr(audio, "mime", None) else "audio/octet-stream"
        return Measured(content_type, "audio", Decimal(str(round(audio.info.length, 3))))
    return Measured("application/octet-stream", "other", None)


def _image(source: BinaryIO, content_type: str) -> Measured:
    """Decode every frame: a truncated or corrupt image fails here, not in a client."""
    try:
        with Image.open(source) as image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
            total_ms = 0
            for index in range(frames):
                image.seek(index)
                image.load()
                total_ms += int(image.info.get("duration") or 0)
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, DecompressionBombError
        return Measured(content_type, "image", None, problem=f"unreadable image ({type(error).__name__})")
    animated = frames > 1
    return Measured(
        content_type, "image", None, total_ms if animated else None, frames if animated else 1, width, height
    )


def _video(source: BinaryIO, content_type: str) -> Measured | None:
    """Measure the first video stream by demuxing every packet; None when the container holds no video."""
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            if "matroska" in container.format.name and content_type != "video/webm":
                content_type = "video/x-matroska"
            declared_frames = stream.frames
            context = stream.codec_context
            width, height = (context.width, context.height) if context is not None else (None, None)
            declared_seconds = container.duration / av.time_base if container.duration else None
            frames, end = 0, 0.0
            for packet in container.demux(stream):
                if packet.size:
                    frames += 1
                    if packet.pts is not None and packet.time_base is not None:
                        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as error:
        return Measured(content_type, "other", None, problem=f"unreadable video ({type(error).__name__})")
    if not frames or not width:
        problem = "no decodable video frames"
    elif declared_frames and frames != declared_frames:
        problem = f"truncated: {frames} of {declared_frames} frames"
    elif declared_seconds and end + _TRUNCATION_TOLERANCE_SECONDS < declared_seconds * 0.98:
        problem = "truncated: the frames end before the declared duration"
    else:
        problem = ""
    duration_ms = round((declared_seconds or end) * 1000)
    return Measured(content_type, "other", None, duration_ms, frames, width, height, problem)


def _glb(source: BinaryIO) -> Measured:
    """A binary glTF 2.0: header (magic, version 2, length = size), a JSON chunk that parses, whole chunks."""
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    measured = Measured("model/gltf-binary", "other", None)
    header = source.read(20)
    if len(header) < 20:
        return _with_problem(measured, "truncated header")
    _magic, version, length, json_length, json_type = struct.unpack("<4sIIII", header)
    if version != 2:
        return _with_problem(measured, f"glTF version {version}, not 2")
    if length != size:
        return _with_problem(measured, f"declared length {length}, file has {size} bytes")
    if json_type != _GLB_JSON or json_length > size - 20:
        return _with_problem(measured, "the first chunk is not a whole JSON chunk")
    try:
        document = json.loads(source.read(json_length))
    except (ValueError, UnicodeDecodeError):
        return _with_problem(measured, "the JSON chunk does not parse")
    if not isinstance(document, dict) or not isinstance(document.get("asset"), dict):
        return _with_problem(measured, "the JSON chunk has no asset object")
    position = 20 + json_length
    while position < size:
        chunk = source.read(8)
        if len(chunk) < 8:
            return _with_problem(measured, "truncated chunk header")
        chunk_length, _chunk_type = struct.unpack("<II", chunk)
        position += 8 + chunk_length
        if position > size:
            return _with_problem(measured, "a chunk runs past the end of the file")
        source.seek(position)
    return measured


def _with_problem(measured: Measured, problem: str) -> Measured:
    return Measured(measured.content_type, measured.kind, None, problem=problem)
