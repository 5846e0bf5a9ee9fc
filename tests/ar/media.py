"""Files the AR tests upload, made here with Pillow and PyAV: nothing is read from disk or the network."""

import io
import json
import struct

import av
import numpy as np
from PIL import Image


def gif(durations=(100, 200, 300)) -> bytes:
    frames = [Image.new("RGB", (16, 12), (80 * i, 40, 200 - 60 * i)) for i in range(len(durations))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=list(durations), loop=0)
    return out.getvalue()


def apng(durations=(40, 60, 80, 120)) -> bytes:
    frames = [Image.new("RGBA", (20, 10), (50 * i, 100, 20, 255)) for i in range(len(durations))]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=list(durations))
    return out.getvalue()


def still(format_name="PNG", size=(30, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 30)).save(out, format_name)
    return out.getvalue()


def video(
    container="mp4", codec="libx264", frames=24, rate=24, size=(64, 48), target=None, options=None, noise=False
) -> bytes:
    """A clip of `frames` frames at `rate` fps; written to `target` (a path) when given, e.g. for faststart.

    `noise` makes every frame random, so each is large and a cut loses whole frames.
    """
    out = target or io.BytesIO()
    random = np.random.default_rng(7)
    with av.open(out, "w", format=container, options=options or {}) as output:
        stream = output.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            picture = (
                random.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
                if noise
                else np.full((size[1], size[0], 3), (index * 7) % 255, dtype=np.uint8)
            )
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return out.getvalue() if target is None else b""


def glb(document=None, binary=b"") -> bytes:
    text = json.dumps(document or {"asset": {"version": "2.0"}, "scenes": [{"nodes": []}]}).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text
    if binary:
        binary += b"\x00" * (-len(binary) % 4)
        body += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
