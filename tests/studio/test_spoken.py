"""The spoken form of a variant (what a rendered clip says): speakable fields only, sentences, no hashtags."""

from __future__ import annotations

from app.studio.spoken import spoken_text


def test_a_video_script_says_hook_script_and_cta() -> None:
    fields = {"hook": "Tired eyes after work?", "script": "Meet Nimbus.\n\nWarm light, USB-C charging",
              "cta": "Visit our site today"}
    assert spoken_text(fields, "video-script") == (
        "Tired eyes after work?\nMeet Nimbus.\nWarm light, USB-C charging.\nVisit our site today.")


def test_other_types_join_their_fields_as_sentences() -> None:
    email = {"subject": "Cold brew, ready when you wake", "preheader": "Fill it tonight:",
             "body": "BrewMate makes cold brew overnight.", "cta": "Order today"}
    assert spoken_text(email, "email") == ("Cold brew, ready when you wake.\nFill it tonight.\n"
                                           "BrewMate makes cold brew overnight.\nOrder today.")
    product = {"title": "Nimbus lamp", "body": "Soft light.", "bullets": ["- USB-C charging", "Dimmable"]}
    assert spoken_text(product, "product-description") == "Nimbus lamp.\nSoft light.\nUSB-C charging.\nDimmable."


def test_hashtags_links_and_emoji_are_not_read_out() -> None:
    post = {"text": "Fresh #coffee at www.brightside.example ☕ every morning!", "hashtags": ["#coffee", "#morning"]}
    assert spoken_text(post, "social-post") == "Fresh coffee at every morning!"
    assert spoken_text({"slogan": "   "}, "slogan") == ""
