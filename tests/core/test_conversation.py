"""Conversation memory: what the model is sent each turn, within the history budget."""

from __future__ import annotations

import pytest

from assistant.core.conversation import INTERRUPTED_MARKER, Conversation, Turn
from assistant.core.protocols import Message


def roles_and_texts(messages: list[Message]) -> list[tuple[str, str]]:
    return [(message.role, message.content) for message in messages]


def talked(budget: int, *exchanges: tuple[str, str]) -> Conversation:
    conversation = Conversation("Be brief.", budget_chars=budget)
    for question, answer in exchanges:
        conversation.add_user(question)
        conversation.add_assistant(answer)
    return conversation


def test_the_system_prompt_comes_first_then_the_turns_in_order() -> None:
    conversation = talked(1000, ("Hi", "Hello!"))
    conversation.add_user("How are you?")
    assert roles_and_texts(conversation.messages()) == [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "How are you?"),
    ]


def test_the_oldest_turns_go_first_when_the_budget_runs_out() -> None:
    conversation = talked(30, ("one 1", "reply 1"), ("two 2", "reply 2"), ("three", "reply 3"))
    conversation.add_user("four!")
    # Newest first: "four!", "reply 3", "three", "reply 2", "two 2" add up to 29 characters;
    # "reply 1" would make 36, so history starts at "two 2".
    assert roles_and_texts(conversation.messages())[1:] == [
        ("user", "two 2"),
        ("assistant", "reply 2"),
        ("user", "three"),
        ("assistant", "reply 3"),
        ("user", "four!"),
    ]


def test_the_system_prompt_does_not_count_against_the_budget() -> None:
    conversation = Conversation("A very long system prompt. " * 100, budget_chars=10)
    conversation.add_user("Hi there")
    assert [message.role for message in conversation.messages()] == ["system", "user"]


def test_the_latest_question_is_sent_even_if_it_alone_exceeds_the_budget() -> None:
    conversation = talked(10, ("short", "ok"))
    question = "Please summarise this long text: " + "words " * 50
    conversation.add_user(question)
    assert roles_and_texts(conversation.messages()) == [
        ("system", "Be brief."),
        ("user", question.strip()),
    ]


def test_history_never_opens_with_the_assistant() -> None:
    # The budget would fit the last reply but not the question before it.
    conversation = talked(20, ("a long first question", "short"))
    conversation.add_user("next")
    assert roles_and_texts(conversation.messages()) == [("system", "Be brief."), ("user", "next")]


def test_a_greeting_before_any_question_is_not_sent() -> None:
    conversation = Conversation("Be brief.", budget_chars=1000)
    conversation.add_assistant("Hello! Ask me anything.")
    conversation.add_user("What is two plus two?")
    assert roles_and_texts(conversation.messages()) == [
        ("system", "Be brief."),
        ("user", "What is two plus two?"),
    ]


def test_after_a_reply_the_last_exchange_is_kept_whole() -> None:
    conversation = talked(0, ("Question", "Answer"))
    assert roles_and_texts(conversation.messages())[1:] == [
        ("user", "Question"),
        ("assistant", "Answer"),
    ]


def test_an_interrupted_reply_is_kept_and_marked_for_the_model() -> None:
    conversation = Conversation("Be brief.", budget_chars=1000)
    conversation.add_user("Tell me a story.")
    conversation.add_assistant("Once upon a time", interrupted=True)
    conversation.add_user("Actually, what time is it?")
    assert conversation.turns[1] == Turn("assistant", "Once upon a time", interrupted=True)
    assert conversation.messages()[2] == Message(
        "assistant", "Once upon a time" + INTERRUPTED_MARKER
    )
    assert INTERRUPTED_MARKER == " …[interrupted]"


def test_a_reply_cut_off_before_any_word_is_still_recorded() -> None:
    conversation = Conversation("Be brief.", budget_chars=1000)
    conversation.add_user("Tell me a story.")
    conversation.add_assistant("", interrupted=True)
    assert conversation.messages()[-1] == Message("assistant", "…[interrupted]")


def test_a_question_left_without_reply_is_not_sent_again() -> None:
    # A turn that failed (no network) leaves two questions in a row. Joined into one message,
    # the model would answer a question the user never wrote; the user sees the failure, and
    # asks again if they want to.
    conversation = Conversation("Be brief.", budget_chars=1000)
    conversation.add_user("What time is it in Tokyo?")
    conversation.add_user("Experience proves this.")
    assert roles_and_texts(conversation.messages()) == [
        ("system", "Be brief."),
        ("user", "Experience proves this."),
    ]
    assert len(conversation.turns) == 2  # both are still what the user saw


def test_only_the_unanswered_question_is_left_out() -> None:
    conversation = talked(1000, ("Hi", "Hello!"))
    conversation.add_user("Weather?")  # failed
    conversation.add_user("Weather in Paris?")
    conversation.add_assistant("Sunny.")
    conversation.add_assistant("Warm, too.", interrupted=True)  # two replies: a resumed history
    assert roles_and_texts(conversation.messages()) == [
        ("system", "Be brief."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "Weather in Paris?"),
        ("assistant", "Sunny.\n\nWarm, too." + INTERRUPTED_MARKER),
    ]


def test_blank_input_is_not_a_turn() -> None:
    conversation = Conversation("Be brief.", budget_chars=1000)
    conversation.add_user("   ")
    conversation.add_assistant("")
    assert conversation.turns == ()
    assert conversation.messages() == [Message("system", "Be brief.")]


def test_clear_forgets_the_turns_but_not_the_system_prompt() -> None:
    conversation = talked(1000, ("Hi", "Hello!"))
    conversation.clear()
    assert conversation.turns == ()
    conversation.add_user("Who are you?")
    assert roles_and_texts(conversation.messages()) == [
        ("system", "Be brief."),
        ("user", "Who are you?"),
    ]


def test_turns_are_what_the_user_sees() -> None:
    conversation = talked(1000, ("Hi", "Hello!"))
    assert conversation.turns == (Turn("user", "Hi"), Turn("assistant", "Hello!"))


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="budget_chars"):
        Conversation("Be brief.", budget_chars=-1)
