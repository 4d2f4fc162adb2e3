"""Screenshots of the window on a fresh demo township, for the README and for looking at the
window as a user sees it (offscreen, no display needed, except screen_fit under Xvfb):

    python -m ui.screenshots docs/screenshots              the main views (views.py)
    python -m ui.screenshots.map docs/screenshots          the map tools (map.py)
    python -m ui.screenshots.screen_fit docs/screenshots 150   the whole screen at a scale

window.py opens the demo window and grabs; the other modules take their shots.
"""
