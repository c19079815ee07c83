"""Network entities: user regions, transit nodes and links (SPEC section 2)."""

from __future__ import annotations

from models.base import Annotatable, Id, NonNegFloat, PosFloat

#: Gbps a link carries per rps per KB of request plus response (SPEC section 5, row 7:
#: 8 bits per byte, 10^3 bytes per KB, 10^-9 Gbit per bit).
GBPS_PER_RPS_KB = 8e-6


class Region(Annotatable):
    """A user region: a source of inference demand."""

    id: Id


class TransitNode(Annotatable):
    """A network node that is neither a site nor a region (an exchange, a cable landing)."""

    id: Id


class Link(Annotatable):
    """An undirected link; latency is its round-trip contribution."""

    a: Id
    b: Id
    latency_ms: PosFloat
    bandwidth_gbps: PosFloat | None = None
    egress_cost_per_gb: NonNegFloat = 0.0
