from app.core.turn import Turn, heard_text


def test_heard_text_keeps_whole_pieces_and_cuts_the_one_playing() -> None:
    spans = [("Hello there.", 0.0, 1.0), ("This is a long second sentence here.", 1.0, 3.0), ("Third.", 3.0, 4.0)]
    assert heard_text(spans, 4.0) == "Hello there. This is a long second sentence here. Third."
    assert heard_text(spans, 1.0) == "Hello there."
    assert heard_text(spans, 2.0) == "Hello there. This is a …"
    assert heard_text(spans, 0.0) == ""


def test_timings_are_relative_to_end_of_speech() -> None:
    turn = Turn()
    turn.mark("speech_end", 10.0)
    turn.mark("transcript", 10.5)
    turn.mark("first_token", 10.7)
    turn.mark("first_sentence", 11.0)
    turn.mark("first_audio", 11.2)
    turn.mark("first_audio", 99.0)  # later marks of the same stage are ignored
    t = turn.timings()
    assert t["asr_s"] == 0.5
    assert t["llm_first_token_s"] == 0.2
    assert t["tts_first_chunk_s"] == 0.2
    assert t["first_audio_s"] == 1.2
