"""Whether the farm's broker and storage answer, as ``joypix doctor`` rows; never shows a password."""

from __future__ import annotations

from joypix_recipes.cluster.broker import check_broker
from joypix_recipes.cluster.errors import BrokerError, StorageError
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.redact import redact


def farm_rows(settings: ClusterSettings) -> list[tuple[str, str, bool]]:
    """(label, value, works) rows for the broker and the storage (a probe file written, read back, deleted)."""
    rows = []
    try:
        elapsed = check_broker(settings)
    except BrokerError as error:
        rows.append(("broker", str(error), False))
    else:
        rows.append(("broker", f"{settings.public_broker}: answers ({elapsed * 1000:.0f} ms)", True))
    if settings.storage_url is None:
        rows.append(("storage", "not set; give --storage URL or set $JOYPIX_STORAGE", True))
        return rows
    from joypix_recipes.cluster.storage import Storage

    try:
        Storage(settings.storage_url).check()
    except StorageError as error:
        rows.append(("storage", str(error), False))
    else:
        rows.append(("storage", f"{redact(settings.storage_url)}: writable", True))
    return rows
