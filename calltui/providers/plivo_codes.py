"""Plivo Zentrunk hangup codes: what each means and how it classifies.

Source: Plivo's Zentrunk hangup code table,
https://docs.plivo.com/docs/sip-trunking/troubleshooting/zentrunk-hangup-codes, with the record
names that Plivo's own CLI observed to differ from the table (`plivo/plivo-cli`
`sip-trunking-skill/SKILL.md`, commit 0d67b74).
Hangup sources: `customer` is your own infrastructure, `carrier` the remote carrier, `zentrunk`
Plivo itself.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = (
    "Plivo Zentrunk hangup codes, https://docs.plivo.com/docs/sip-trunking/troubleshooting/"
    "zentrunk-hangup-codes; record names "
    "from plivo/plivo-cli sip-trunking-skill/SKILL.md @ 0d67b74"
)


@dataclass(frozen=True, slots=True)
class HangupCode:
    code: int
    name: str
    meaning: str


_TABLE: tuple[tuple[int, str, str], ...] = (
    (3000, "normal_hangup", "normal hangup from the carrier (SIP 200)"),
    (3010, "normal_hangup", "normal hangup from your side (SIP 200)"),
    (3020, "rtp_timeout", "mid-call media timeout: no RTP was received"),
    (3030, "insufficient_plivo_credits", "the call was ended because the credit ran low"),
    (3040, "abnormal_hangup_due_to_reinvite", "a re-INVITE was rejected mid-call"),
    (4000, "bad_request", "a malformed SIP request"),
    (4010, "unauthorized_by_carrier", "the carrier refused the call as unauthorized (SIP 503)"),
    (4020, "unauthorized", "authentication was required"),
    (4030, "insufficient_plivo_credits", "no credit to start the call"),
    (4040, "forbidden", "the carrier refused the call"),
    (4050, "blacklisted_for_verification", "the number is blacklisted pending verification"),
    (4060, "forbidden", "authentication of your PBX failed"),
    (4070, "trunk_not_found", "no trunk matches the request"),
    (4080, "route_not_found", "no route to the destination"),
    (4090, "destination_not_found", "the destination does not exist"),
    (4100, "prefix_not_supported", "the destination prefix is not supported"),
    (4110, "secure_trunking_disabled", "TLS/SRTP was used but secure trunking is disabled"),
    (4120, "destination_invalid", "the destination number is invalid"),
    (4130, "incorrect_callerid_non_numeric", "the caller ID is not numeric"),
    (4140, "incorrect_callerid_too_short", "the caller ID is too short"),
    (4150, "proxy_authentication_required", "proxy authentication was required"),
    (4160, "request_timeout_carrier", "the carrier did not answer in time"),
    (4170, "request_timeout_customer", "your side did not answer in time"),
    (4190, "unknown_caller_id", "the caller ID is unknown"),
    (4200, "dno_caller_id", "the caller ID is on the do-not-originate list"),
    (4220, "unsupported_media_type", "unsupported media type"),
    (4230, "unsupported_uri_scheme", "unsupported URI scheme"),
    (4270, "session_interval_too_small", "the session timer interval is too small"),
    (4310, "uri_not_found", "the request URI was not found"),
    (4320, "uri_invalid", "the request URI is invalid"),
    (4330, "temporary_unavailable", "temporarily unavailable at Zentrunk"),
    (4340, "temporary_unavailable", "temporarily unavailable at the carrier"),
    (4350, "temporary_unavailable", "temporarily unavailable at your side"),
    (4360, "call_does_not_exist", "the call or transaction does not exist"),
    (4370, "loop_detected", "a routing loop was detected"),
    (4380, "too_many_hops", "too many hops"),
    (4410, "user_busy", "the called party is busy"),
    (4420, "carrier_cancelled", "the carrier cancelled the call before answer"),
    (4430, "sdp_not_acceptable_here", "the SDP offer was not acceptable"),
    (4440, "request_terminated", "the request was terminated"),
    (4500, "request_pending", "a request was still pending"),
    (4520, "security_agreement_required", "a security agreement was required"),
    (4540, "forbidden", "Zentrunk authentication failed"),
    (4550, "user_cancelled", "the caller hung up before answer"),
    (4560, "barred_country", "the destination country is barred (geo permissions)"),
    (4570, "barred_number", "the number is barred"),
    (4580, "invalid_sip_packet", "an invalid SIP packet"),
    (4590, "domestic_anchored_terms_not_met", "Indian domestic anchoring terms were not met"),
    (4610, "ruri_not_acceptable_here", "the request URI was not acceptable"),
    (4620, "codec_not_acceptable_here", "no acceptable codec"),
    (4630, "sdp_not_acceptable_here_by_carrier", "the carrier refused the SDP"),
    (4640, "sdp_not_acceptable_here_by_user", "your side refused the SDP"),
    (4650, "barred_country", "a geo-permissions block (SIP 403 Barred Country)"),
    (5000, "service_unavailable_no_more_destinations", "no more destinations to try"),
    (5010, "port_limit_reached", "the port limit was reached"),
    (5020, "not_implemented", "not implemented"),
    (5030, "not_implemented_at_carrier", "not implemented at the carrier"),
    (5040, "not_implemented_at_user", "not implemented at your side"),
    (5180, "cps_limit_reached", "the calls-per-second limit was reached"),
    (5190, "concurrent_call_limit_exceeded", "the concurrent call limit was exceeded"),
    (5200, "server_timeout", "server timeout"),
    (5220, "service_interrupted_by_customer", "your side interrupted the call mid-dialog"),
    (5230, "service_interrupted_by_customer", "your side interrupted the call"),
    (5240, "service_interrupted_by_nomedia", "the call was interrupted: no media"),
    (5250, "internal_error", "a Zentrunk internal error"),
    (5260, "internal_error_routing", "a Zentrunk routing error"),
    (5270, "internal_error_media_service", "a Zentrunk media service error"),
    (5290, "internal_error_trunk", "a Zentrunk trunk error"),
    (5300, "bad_gateway", "bad gateway"),
    (5310, "service_interrupted_by_carrier_4xx", "the carrier ended the call mid-dialog (4xx)"),
    (5320, "service_interrupted_by_carrier_5xx_6xx", "the carrier ended the call (5xx/6xx)"),
    (5330, "server_timeout", "server timeout"),
    (5340, "server_timeout", "server timeout"),
    (5350, "service_unavailable_by_carrier", "the carrier's service is unavailable"),
    (5360, "service_unavailable_by_user", "your side's service is unavailable"),
    (6000, "busy_everywhere", "busy everywhere"),
    (6020, "does_not_exist_anywhere", "the number does not exist anywhere"),
    (6030, "alloted_timeout", "the allotted time ran out"),
    (6040, "declined_from_carrier", "the carrier declined the call"),
    (6070, "not_acceptable", "not acceptable"),
)

CODES: dict[int, HangupCode] = {c: HangupCode(c, n, m) for c, n, m in _TABLE}

# Names seen on real records that differ from the table (plivo-cli SKILL.md, "observed").
RECORD_NAMES: dict[str, int] = {
    "insufficient_credits": 4030,
    "customer_cancelled": 4550,
    "service_interrupted_middialog_by_customer": 5220,
    "service_interrupted_middialog_by_carrier_4xx": 5310,
    "call_rejected_unauthorized_by_carrier": 4010,
}

# `hangup_source` (legacy `hangup_initiator`): who ended the call, in Plivo's words.
SOURCES: dict[str, str] = {
    "customer": "your own infrastructure",
    "carrier": "the remote carrier",
    "zentrunk": "Plivo Zentrunk itself",
}

SUCCESS = frozenset({3000, 3010})
MID_CALL = frozenset({3020, 3030, 3040, 5220, 5230, 5240, 5310, 5320})
BUSINESS = frozenset({4410, 4420, 4550, 4340, 6000, 6030})


def lookup(code: int | None) -> HangupCode | None:
    """The table's entry for a hangup code, or None for a code outside the public table."""
    return None if code is None else CODES.get(code)


def group(code: int) -> str:
    """Our classification, an inference from the groupings of Plivo's hangup-code table."""
    if code in SUCCESS:
        return "a normal end of a connected call"
    if code in MID_CALL:
        return "connected, then failed mid-call"
    if code in BUSINESS:
        return "not connected: an expected outcome (busy, cancelled, unavailable)"
    return "not connected: a configuration or platform failure"


def explain(code: int | None, name: str | None, source: str | None) -> str | None:
    """One paragraph for the drill-down: what the code means and who hung up."""
    if code is None and not name:
        return None
    by = f" Hung up by: {source}." if source else ""
    if code is None:
        return f"No hangup code on the record; cause {name!r}.{by}"
    entry = CODES.get(code)
    if entry is None:
        # Plivo's CLI notes codes outside the public table still name themselves.
        named = f" The record names it {name!r}." if name else ""
        return f"Plivo hangup code {code} is not in the public Zentrunk table.{named}{by}"
    alias = f" (recorded as {name!r})" if name and name != entry.name else ""
    return f"Plivo hangup code {code} {entry.name}{alias}: {entry.meaning}; {group(code)}.{by}"
