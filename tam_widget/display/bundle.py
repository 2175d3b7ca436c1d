"""Where the bundled front end lives: ``display/static/widget.js`` and ``widget.css``, built from ``js/``."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"
MISSING = (
    "export default { render({ el }) { el.textContent = 'The tam-widget front end is not built: reinstall "
    "tam-widget or run npm install && npm run build in js/.'; } };"
)


def bundle() -> Path:
    """The bundled front end, or a FileNotFoundError that says how to build it."""
    path = STATIC / "widget.js"
    if not path.exists():
        raise FileNotFoundError(
            f"The widget's front end {path} is missing. Reinstall tam-widget (pip install -e . builds it with npm) "
            "or run `npm install && npm run build` in js/."
        )
    return path


def css() -> str:
    """The widget's stylesheet ('' when the front end is not built)."""
    path = STATIC / "widget.css"
    return path.read_text(encoding="utf-8") if path.exists() else ""
