"""Recognising Visage's own voice in a transcript by its words (the echo loop of issue 17)."""

from __future__ import annotations

from app.core.self_echo import PlayedText

STORY = [
    ("Once upon a time, a dragon named Ember lived at the top of a mountain.", 0.0, 4.0),
    ("Every morning she watched the baker in the village below, and wished she could bake bread too.", 4.0, 9.0),
    ("One day she flew down and asked the baker to teach her.", 9.0, 12.0),
]


def played() -> PlayedText:
    text = PlayedText()
    for sentence, start, end in STORY:
        text.played(sentence, start, end)
    return text


def test_a_piece_of_the_reply_heard_back_is_its_own_voice() -> None:
    verdict = played().is_echo("she watched the baker in the village below", 5.0, 7.5)
    assert verdict.echo
    assert "baker in the village" in verdict.matched


def test_asr_errors_in_the_echo_still_match() -> None:  # the echo is quieter and reverberant: words get lost
    assert played().is_echo("every morning she washed the baker in village below", 4.2, 7.5).echo


def test_a_cut_off_echo_is_caught() -> None:  # "The capital of France is Paris." heard back as "the cap."
    text = PlayedText()
    text.played("The capital of France is Paris.", 0.0, 2.0)
    assert text.is_echo("the cap.", 0.0, 0.6).echo


def test_a_two_word_echo_loop_is_caught() -> None:  # "The world." -> "the world." -> ... in the issue
    text = PlayedText()
    text.played("The world.", 0.0, 0.8)
    assert text.is_echo("the world", 0.1, 0.9).echo


def test_the_users_question_over_the_reply_is_not_echo() -> None:
    # shares common words with the story ("the", "of", "a"), scattered over it: not a stretch of it
    verdict = played().is_echo("What is the capital of France?", 6.0, 8.0)
    assert not verdict.echo


def test_the_user_talking_about_the_same_thing_is_not_echo() -> None:
    assert not played().is_echo("Can the dragon also bake cakes for my birthday party?", 10.0, 13.0).echo


def test_only_what_was_played_around_then_counts() -> None:
    text = played()
    assert not text.is_echo("one day she flew down and asked the baker to teach her", 30.0, 33.0).echo


def test_words_never_played_after_a_stop_do_not_count() -> None:
    text = played()
    text.stopped(8.0)  # barge-in at 8 s: the third sentence was queued, never heard
    assert not text.is_echo("one day she flew down and asked the baker to teach her", 8.5, 11.0).echo
    assert text.is_echo("wished she could bake bread too", 7.0, 9.0).echo


def test_one_short_word_is_no_evidence_but_one_long_one_is() -> None:
    # a question over the reply came out of the recogniser as "the": dropped as Visage's own voice, and lost
    assert not played().is_echo("the", 4.5, 5.5).echo
    assert not played().is_echo("She.", 4.5, 5.5).echo
    assert played().is_echo("Baker.", 4.5, 6.5).echo  # a cut-off echo of a real word still counts
