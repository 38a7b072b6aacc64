"""Final SIP status codes in plain words, for the one-line 'why' of a call.

Source: the reason phrases of RFC 3261 §21 (with RFC 3262, 3892, 4412, 5393, 6086, 8599 for the
later codes, as listed in the IANA "SIP Response Codes" registry); the plain-language gloss is
ours, written for a NOC engineer reading why a call did not connect.
"""

from __future__ import annotations

SOURCE = (
    "RFC 3261 §21 reason phrases, with RFC 3262, 3892, 4412, 5393, 6086, 8599 for later codes, "
    "as listed in the IANA SIP Response Codes registry"
)

SIP_MEANING: dict[int, str] = {
    200: "OK: the call was answered",
    400: "Bad Request: a malformed INVITE was refused",
    401: "Unauthorized: the far end wants authentication",
    402: "Payment Required",
    403: "Forbidden: the far end refused the call (policy, ACL or credit)",
    404: "Not Found: the number does not exist there",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout: no final answer in time",
    410: "Gone: the number no longer exists",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable: the callee is not reachable now (no answer, off, DND)",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected: the call came back to a hop it passed",
    483: "Too Many Hops: a routing loop or a too-long path",
    484: "Address Incomplete: the number is too short or malformed",
    485: "Ambiguous",
    486: "Busy Here: the callee is busy",
    487: "Request Terminated: the caller hung up before an answer",
    488: "Not Acceptable Here: no common codec or media settings",
    489: "Bad Event",
    491: "Request Pending",
    493: "Undecipherable",
    494: "Security Agreement Required",
    500: "Server Internal Error: the far end failed",
    501: "Not Implemented",
    502: "Bad Gateway: a downstream hop answered badly",
    503: "Service Unavailable: the far end or the route is overloaded or down",
    504: "Server Time-out: a downstream hop did not answer",
    505: "Version Not Supported",
    513: "Message Too Large",
    580: "Precondition Failure",
    600: "Busy Everywhere: the callee is busy on every device",
    603: "Decline: the callee rejected the call",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable: the callee cannot take this kind of call",
    607: "Unwanted: the callee marked the call as unwanted",
    608: "Rejected: an intermediary (analytics, spam filter) rejected the call",
}


def sip_meaning(code: int | None) -> str | None:
    """The plain meaning of a final SIP status, or of its class for an unlisted code."""
    if code is None:
        return None
    if code in SIP_MEANING:
        return SIP_MEANING[code]
    classes = {
        2: "success",
        3: "redirected",
        4: "refused by the far end",
        5: "server failure",
        6: "global failure",
    }
    kind = classes.get(code // 100)
    return f"SIP {code}: {kind}" if kind else None


def sip_phrase(code: int | None) -> str | None:
    """The reason phrase alone (`Busy Here`), or `SIP 499` for an unlisted code."""
    if code is None:
        return None
    meaning = SIP_MEANING.get(code)
    if meaning is None:
        return f"SIP {code}" if 100 <= code < 700 else None
    return meaning.partition(":")[0]


lookup = sip_meaning
"""Every table module has a `lookup`: here the plain meaning of a final status."""
