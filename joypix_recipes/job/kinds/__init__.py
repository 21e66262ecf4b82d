"""Step kinds: each kind (prompt, animate, text, subtitles, audio, fade, transition, reframe, overlay) in one module.

A kind's module holds everything about it: its action (the frozen data a job carries), the fields a
recipe writes for it (plain data the recipe side reads), its JSON form, how it edits a timeline (the
local backend and the emulator) and how it is worded for the cloud agent. ``registry`` lists the kinds.

Kinds sit at the job layer, so both the recipe side and the run side may import them, and they import
nothing above it. What a kind needs from a higher layer is handed in: the timeline layer passes an
object that meets the ``kind.Timeline`` protocol (it owns the draft and its units), and the cloud
backend passes a ``kind.Wording`` (the uploaded audio's name, the image count, the interpreter's zoom
words). The recipe side turns a kind's ``Field``s into templates and renders them at planning.

Adding a kind: write its module (a ``Kind`` subclass and its action), add it to ``registry.KINDS``,
and, if recipes may write it, give it a ``$defs`` entry and a ``Step`` property in the recipe schema.
"""
