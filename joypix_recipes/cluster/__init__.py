"""The render farm: jobs travel through a Dramatiq queue on Redis to `joypix worker` processes on any machine.

``settings`` resolves the broker and storage URLs, ``broker`` builds the Dramatiq broker, ``ledger``
keeps each job identity's record and lease in Redis, ``storage`` moves files through fsspec,
``worker`` executes one message, ``serve`` runs worker processes, and ``follower`` is the submitting
side: a backend the ordinary runner drives, so progress, journal and report work as in a local run.
"""
