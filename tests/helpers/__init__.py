"""What the tests share, one module a concern.

audio (WAV tones), disks (a small tmpfs), images (test photos, image bytes), jobs (jobs as planned),
progress (a progress to wait on), recipes (recipe files from text), repo (the checkout, the sample photo),
runs (the CLI in a child process, its events and partial files), video (decoded clips), waiting (wait_until).

The names below are the ones this package had as one module, so ``from helpers import write_image`` still
works; new code imports from the module that owns the name.
"""

from helpers.audio import write_wav
from helpers.images import EXIF_ORIENTATION, png_header_only, write_image
from helpers.jobs import make_job
from helpers.progress import EndedJobs
from helpers.video import ENCODER_NOISE_LEVELS, luma_frames, same_pictures

__all__ = [
    "ENCODER_NOISE_LEVELS",
    "EXIF_ORIENTATION",
    "EndedJobs",
    "luma_frames",
    "make_job",
    "png_header_only",
    "same_pictures",
    "write_image",
    "write_wav",
]
