"""Content negotiation on the ``Accept`` header (RFC 9110 §12.5.1): the best offer the client accepts."""

from __future__ import annotations


def _ranges(accept: str) -> list[tuple[str, float, int]]:
    """Media ranges with their quality, in the header's order (q=0 ranges kept: they exclude)."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality, position))
    return ranges


def _specificity(media_range: str, offer: str) -> int:
    """How precisely ``media_range`` matches ``offer`` (3 exact, 2 type/*, 1 */*, 0 no match)."""
    if media_range == offer:
        return 3
    kind = offer.split("/")[0]
    if media_range == f"{kind}/*":
        return 2
    return 1 if media_range == "*/*" else 0


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer the client prefers (first offer wins ties and an absent header); None if none is acceptable."""
    if not accept or not accept.strip():
        return offers[0] if offers else None
    ranges = _ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for rank, offer in enumerate(offers):
        matches = [(spec, q, pos) for media, q, pos in ranges if (spec := _specificity(media, offer))]
        if not matches:
            continue
        spec, quality, position = max(matches, key=lambda m: m[0])  # the most specific range decides
        if quality <= 0:
            continue
        key = (quality, -position if spec == 3 else -len(ranges), -rank)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen
