"""ITU-T Q.850 release causes: their names, how they map to SIP, and how providers write them.

Sources:
- Cause values and names: ITU-T Recommendation Q.850 (05/1998), Table 1 "Cause information
  element", cross-checked against Ribbon's published copy of that table
  (https://publicdoc.rbbn.com/display/UXDOC90/Q850+Cause+Codes). Location/class semantics are
  left out: providers expose the value only.
- Q.850 → SIP: RFC 3398 §7.2.4.1 (ISUP cause value → SIP response, for a call toward SIP).
- SIP → Q.850: RFC 3398 §8.2.6.1 (SIP response → cause value in the REL). 487 and 488/606 have
  no fixed cause there (the latter goes by the Warning header), so they are absent.
- The upper-case names Bandwidth's hangup event and FreeSWITCH-based platforms write
  (`USER_BUSY`, `NORMAL_CLEARING`, ...): FreeSWITCH `src/include/switch_types.h`,
  `switch_call_cause_t`, where each name carries its Q.850 value. `ORIGINATOR_CANCEL` is
  FreeSWITCH's own 487, not a Q.850 cause; it is listed apart (see NAMES_NOT_Q850).
- The `Reason: Q.850;cause=N;text="..."` header a SIP final response may carry: RFC 3326 §2.
"""

from __future__ import annotations

import re

SOURCE = (
    "ITU-T Q.850 (05/1998) Table 1; RFC 3398 §7.2.4.1 and §8.2.6.1 for the SIP mapping; "
    "FreeSWITCH switch_types.h (switch_call_cause_t) for the upper-case names; RFC 3326 for "
    "the Reason header"
)

CAUSES: dict[int, str] = {
    1: "Unallocated (unassigned) number",
    2: "No route to specified transit network",
    3: "No route to destination",
    4: "Send special information tone",
    5: "Misdialled trunk prefix",
    6: "Channel unacceptable",
    7: "Call awarded and being delivered in an established channel",
    8: "Preemption",
    9: "Preemption - circuit reserved for reuse",
    16: "Normal call clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer from user (user alerted)",
    20: "Subscriber absent",
    21: "Call rejected",
    22: "Number changed",
    23: "Redirection to new destination",
    25: "Exchange routing error",
    26: "Non-selected user clearing",
    27: "Destination out of order",
    28: "Invalid number format (address incomplete)",
    29: "Facility rejected",
    30: "Response to STATUS ENQUIRY",
    31: "Normal, unspecified",
    34: "No circuit/channel available",
    38: "Network out of order",
    39: "Permanent frame mode connection out of service",
    40: "Permanent frame mode connection operational",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    43: "Access information discarded",
    44: "Requested circuit/channel not available",
    46: "Precedence call blocked",
    47: "Resource unavailable, unspecified",
    49: "Quality of service not available",
    50: "Requested facility not subscribed",
    53: "Outgoing calls barred within CUG",
    55: "Incoming calls barred within CUG",
    57: "Bearer capability not authorized",
    58: "Bearer capability not presently available",
    62: "Inconsistency in designated outgoing access information and subscriber class",
    63: "Service or option not available, unspecified",
    65: "Bearer capability not implemented",
    66: "Channel type not implemented",
    69: "Requested facility not implemented",
    70: "Only restricted digital information bearer capability is available",
    79: "Service or option not implemented, unspecified",
    81: "Invalid call reference value",
    82: "Identified channel does not exist",
    83: "A suspended call exists, but this call identity does not",
    84: "Call identity in use",
    85: "No call suspended",
    86: "Call having the requested call identity has been cleared",
    87: "User not member of CUG",
    88: "Incompatible destination",
    90: "Non-existent CUG",
    91: "Invalid transit network selection",
    95: "Invalid message, unspecified",
    96: "Mandatory information element is missing",
    97: "Message type non-existent or not implemented",
    98: "Message not compatible with call state or message type non-existent or not implemented",
    99: "Information element / parameter non-existent or not implemented",
    100: "Invalid information element contents",
    101: "Message not compatible with call state",
    102: "Recovery on timer expiry",
    103: "Parameter non-existent or not implemented, passed on",
    110: "Message with unrecognized parameter, discarded",
    111: "Protocol error, unspecified",
    127: "Interworking, unspecified",
}

# RFC 3398 §7.2.4.1. Cause 16 ends an answered call with a BYE, so it maps to no response; 22 is
# 410 without a diagnostic (301 with one).
TO_SIP: dict[int, int] = {
    1: 404, 2: 404, 3: 404, 17: 486, 18: 408, 19: 480, 20: 480, 21: 403, 22: 410, 23: 410,
    26: 404, 27: 502, 28: 484, 29: 501, 31: 480, 34: 503, 38: 503, 41: 503, 42: 503, 47: 503,
    55: 403, 57: 403, 58: 503, 65: 488, 70: 488, 79: 501, 87: 403, 88: 503, 102: 504,
    111: 500, 127: 500,
}  # fmt: skip

# RFC 3398 §8.2.6.1 (the table writes 505 Version Not Supported as a second "504").
FROM_SIP: dict[int, int] = {
    400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
    413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127, 480: 18, 481: 41,
    482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 500: 41, 501: 79, 502: 38, 503: 41, 504: 102,
    505: 127, 513: 127, 600: 17, 603: 21, 604: 1,
}  # fmt: skip

# FreeSWITCH's switch_call_cause_t names for Q.850 values.
NAMES: dict[str, int] = {
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_TRANSIT_NET": 2,
    "NO_ROUTE_DESTINATION": 3,
    "CHANNEL_UNACCEPTABLE": 6,
    "CALL_AWARDED_DELIVERED": 7,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "REDIRECTION_TO_NEW_DESTINATION": 23,
    "EXCHANGE_ROUTING_ERROR": 25,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "RESPONSE_TO_STATUS_ENQUIRY": 30,
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "ACCESS_INFO_DISCARDED": 43,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "FACILITY_NOT_SUBSCRIBED": 50,
    "BEARERCAPABILITY_NOTAUTH": 57,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "SERVICE_UNAVAILABLE": 63,
    "BEARERCAPABILITY_NOTIMPL": 65,
    "CHAN_NOT_IMPLEMENTED": 66,
    "FACILITY_NOT_IMPLEMENTED": 69,
    "SERVICE_NOT_IMPLEMENTED": 79,
    "INVALID_CALL_REFERENCE": 81,
    "INCOMPATIBLE_DESTINATION": 88,
    "INVALID_MSG_UNSPECIFIED": 95,
    "MANDATORY_IE_MISSING": 96,
    "MESSAGE_TYPE_NONEXIST": 97,
    "WRONG_MESSAGE": 98,
    "IE_NONEXIST": 99,
    "INVALID_IE_CONTENTS": 100,
    "WRONG_CALL_STATE": 101,
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "MANDATORY_IE_LENGTH_ERROR": 103,
    "PROTOCOL_ERROR": 111,
    "INTERWORKING": 127,
}

NAMES_NOT_Q850: dict[str, str] = {
    "ORIGINATOR_CANCEL": "the caller cancelled before answer (FreeSWITCH 487, no Q.850 value)",
}

USER_BUSY = frozenset({17})
NO_ANSWER = frozenset({18, 19, 20})
REJECTED = frozenset({21})
USER_BEHAVIOUR = USER_BUSY | NO_ANSWER | REJECTED
"""Causes that report what the called user did (busy, not answering, absent, rejecting): E.425
counts them as effective for NER, unlike the network and address failures."""

_REASON = re.compile(r"Q\.850\s*;\s*cause\s*=\s*(\d{1,3})", re.IGNORECASE)


def meaning(cause: int | None) -> str | None:
    """The Q.850 name of a cause value, or its class for a value the table does not name."""
    if cause is None:
        return None
    if cause in CAUSES:
        return CAUSES[cause]
    if not 0 < cause < 128:
        return None
    classes = ((31, "normal event"), (47, "resource unavailable"), (63, "service unavailable"),
               (79, "service not implemented"), (95, "invalid message"), (111, "protocol error"),
               (127, "interworking"))  # fmt: skip
    kind = next(name for top, name in classes if cause <= top)
    return f"cause {cause}: {kind}"


lookup = meaning
"""Every table module has a `lookup`: here the name of a cause value."""


def by_name(name: str | None) -> int | None:
    """The Q.850 value of an upper-case cause name (`USER_BUSY` → 17); None for others."""
    if not name:
        return None
    return NAMES.get(name.strip().upper())


def from_reason(text: str | None) -> int | None:
    """The cause of an RFC 3326 `Reason: Q.850;cause=N` header anywhere in `text`."""
    if not text or "850" not in text:
        return None
    m = _REASON.search(text)
    if m is None:
        return None
    cause = int(m.group(1))
    return cause if 0 < cause < 128 else None


def to_sip(cause: int | None) -> int | None:
    """The SIP response RFC 3398 §7.2.4.1 gives for a cause (None for 16 and unmapped ones)."""
    return None if cause is None else TO_SIP.get(cause)


def from_sip(code: int | None) -> int | None:
    """The cause RFC 3398 §8.2.6.1 gives for a SIP final response."""
    return None if code is None else FROM_SIP.get(code)
