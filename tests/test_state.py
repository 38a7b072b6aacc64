"""History between sessions: marks, the last view and the searches kept in a small private
file, written so that a crash or a planted link loses nothing and overwrites nothing else."""

from __future__ import annotations

import os
import stat

from calltui.state import MAX_SEARCHES, State, load, save


def test_a_state_reads_back_as_it_was_saved_and_is_private(tmp_path):
    path = tmp_path / "state" / "state.json"
    state = State(marks=[("demo-plivo", "c-1"), ("sbc", "0x0E47")], last_view="calltui://view")
    state.searched("sip:503")
    state.searched("trunk:NAP_PEER_LON")
    state.searched("sip:503")  # again: now the newest, once
    save(state, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back, problem = load(path)
    assert problem is None
    assert back.marks == state.marks and back.last_view == "calltui://view"
    assert back.searches == ["trunk:NAP_PEER_LON", "sip:503"]
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left


def test_the_search_history_is_bounded():
    state = State()
    for n in range(MAX_SEARCHES + 10):
        state.searched(f"to:+44{n}")
    assert len(state.searches) == MAX_SEARCHES and state.searches[-1] == f"to:+44{MAX_SEARCHES + 9}"


def test_no_file_is_a_first_session_and_a_bad_one_a_fresh_start(tmp_path):
    assert load(tmp_path / "absent.json") == (State(), None)
    for text in ("{not json", '["a list"]', '{"version": 99}', "\udcff"):
        path = tmp_path / "state.json"
        path.write_text(text, errors="surrogateescape")
        state, problem = load(path)
        assert state == State() and problem is not None and "starting afresh" in problem
    path.write_text(
        '{"version": 1, "marks": [["a", "b"], ["c"], [1, 2], "x"], "searches": [3, "q"]}'
    )
    state, problem = load(path)
    assert problem is None and state.marks == [("a", "b")] and state.searches == ["q"]


def test_a_link_planted_under_its_name_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    path = tmp_path / "state.json"
    os.symlink(victim, path)
    save(State(last_view="calltui://view?q=x"), path)
    assert victim.read_text() == "keep me"
    assert not path.is_symlink() and load(path)[0].last_view == "calltui://view?q=x"
