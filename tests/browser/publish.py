"""Copy the browser tests' screenshots that BACKOFFICE_README.md shows into docs/screenshots/, small.

Run after `pytest tests/browser` (which writes var/screenshots/):

    .venv/bin/python -m tests.browser.publish

Each picture stays 1280 px wide and is stored as a 256-colour PNG (a screen of text and flat
colours loses nothing visible and shrinks about four times).
"""

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "var" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"
# What the README embeds: var/screenshots/<name>.png -> docs/screenshots/<name>.png
SHOWN = (
    "readme_monitor_dashboard",
    "readme_monitor_case_ar",
    "monitor_subject_blocked",
    "monitor_case_resolved",
    "dashboard_en",
    "dashboard_ar",
    "readme_admin_order_en",
    "readme_admin_order_ar",
    "admin_order_approved",
    "admin_campaign_preview_ar",
    "readme_admin_audit_entry",
    "admin_chain_verified",
    "readme_superadmin_periodic_tasks",
    "readme_superadmin_two_factor_resets",
)


def publish() -> list[Path]:
    """Write each shown screenshot to docs/screenshots/ as a 256-colour PNG; return the files written."""
    TARGET.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SHOWN:
        with Image.open(SOURCE / f"{name}.png") as picture:
            small = picture.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(TARGET / f"{name}.png", optimize=True)
        written.append(TARGET / f"{name}.png")
    return written


if __name__ == "__main__":
    for path in publish():
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")
