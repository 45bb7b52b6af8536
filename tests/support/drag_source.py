#!/usr/bin/python3
"""A tiny GTK3 window whose button is an XDND drag source offering the given files' URIs.

The end-to-end tests start it beside the app under Xvfb and drive the drag with xdotool, so the
app receives a real drag-and-drop from another X client. Usage: drag_source.py X Y FILE...
Prints "ready" once the window is on screen.
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

x, y = int(sys.argv[1]), int(sys.argv[2])
uris = [GLib.filename_to_uri(p, None) for p in sys.argv[3:]]

win = Gtk.Window(title="imagesmith-drag-source")
win.set_default_size(240, 160)
win.move(x, y)
button = Gtk.Button(label="drag me")
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()


def on_get(_widget, _context, data, _info, _time):
    data.set_uris(uris)


button.connect("drag-data-get", on_get)
win.add(button)
win.connect("destroy", Gtk.main_quit)


def announce():
    print("ready", flush=True)
    return False


win.show_all()
GLib.timeout_add(300, announce)
Gtk.main()
