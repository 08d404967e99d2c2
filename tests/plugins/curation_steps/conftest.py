"""Shared fixtures: short real-looking English documents on different topics."""

from __future__ import annotations

import pytest

PARAGRAPHS = [
    "The city council met on Tuesday evening to discuss the new bicycle lanes that were planned for the "
    "old market district. Several shop owners said that the construction would keep customers away during "
    "the busy summer months, while residents who cycle to work argued that the lanes would make the narrow "
    "streets much safer. After a long debate, the council agreed to delay the work until the autumn and to "
    "publish a detailed plan with the expected costs before the next meeting.",
    "Sourdough bread is made with a starter, a mixture of flour and water in which wild yeast and lactic "
    "acid bacteria grow. The starter has to be fed regularly, usually once a day, and it should smell "
    "pleasantly sour. When the dough has risen, it is shaped, left to rest in a cool place overnight and "
    "baked in a very hot oven. The long fermentation gives the bread its open crumb, its thick crust and "
    "the slightly tangy taste that many people love.",
    "Honeybees communicate the location of flowers to the other members of the hive with a waggle dance. "
    "The angle of the dance relative to the vertical comb tells the other bees the direction of the food "
    "source relative to the sun, and the duration of the waggle run tells them how far away it is. The "
    "behaviour was first described in detail by the Austrian scientist Karl von Frisch, who shared the "
    "Nobel Prize in Physiology or Medicine in 1973 for this work.",
    "The museum reopened last weekend after a renovation that took almost three years. Visitors can now "
    "see the collection of medieval manuscripts in a new room with controlled light and humidity, which "
    "protects the fragile pages. The curators have also added a small workshop where children can try to "
    "write with a goose feather and ink, and a cafe on the roof that offers a view over the river and the "
    "old town.",
    "Regular physical activity has many benefits for health. Adults who walk briskly for at least thirty "
    "minutes on most days of the week have a lower risk of heart disease, type two diabetes and some kinds "
    "of cancer. Exercise also improves sleep and mood, and it helps older people keep their balance and "
    "independence. Doctors recommend starting slowly and increasing the effort over several weeks, "
    "especially for patients who have not been active for a long time.",
    "The local football team won the championship on Saturday with a late goal in the final minute of the "
    "match. The coach said after the game that the players had worked hard all season and deserved the "
    "title. Thousands of supporters gathered in the main square to celebrate with the team, and the mayor "
    "announced that the stadium would be renovated before the start of the next season in the league.",
    "When you plant tomatoes in a small garden, choose a sunny spot that gets at least six hours of direct "
    "light each day. Water the plants deeply but not too often, so that the roots grow down into the soil, "
    "and add a layer of straw around the stems to keep the moisture in. Tall varieties need a strong stake "
    "or a cage, and removing the small side shoots helps the plant put its energy into the fruit.",
    "The history of the printing press begins in the middle of the fifteenth century, when Johannes "
    "Gutenberg combined movable metal type, oil-based ink and a wooden press adapted from those used to "
    "make wine. Books became much cheaper to produce, and within fifty years printing shops had opened in "
    "more than two hundred European cities. The spread of printed books changed education, religion and "
    "science, because ideas could now travel quickly and in identical copies.",
]


@pytest.fixture
def paragraphs() -> list[str]:
    return list(PARAGRAPHS)


@pytest.fixture
def article() -> str:
    """A multi-paragraph article of about 300 words that passes the Gopher rules."""
    return "\n\n".join(PARAGRAPHS[:4])
