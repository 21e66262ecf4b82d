"""The offline renderer: a draft (timeline) in, an H.264 MP4 and a poster JPEG out, with PyAV.

Entry point: ``render.video.render_draft``. Modules: image (decode), motion (camera math), compose
(frames), text (overlays), audio (soundtrack), encode (PyAV writer), probe (checking an MP4).
"""
