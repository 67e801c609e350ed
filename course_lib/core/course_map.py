"""The course map of lecture 00: one small picture per lecture, each drawn from scratch with numpy so that the
map needs no data and no checkpoint. Each topic registers its lectures' panels
(:func:`course_lib.core.registry.register_card`); this module lays them out.

Lecture: 00_welcome
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from .registry import all_cards


def draw_course_map():
    """Draw the course map: one schematic per registered lecture with its title, idea and paper; return the figure.

    Lecture: 00_welcome
    """
    cards = all_cards()
    rows = max(1, math.ceil((len(cards) + 1) / 4))  # one more panel: "you are here"
    fig, axes = plt.subplots(rows, 4, figsize=(13, 3.75 * rows), squeeze=False)
    axes = axes.ravel()
    for ax, card in zip(axes, cards):
        card.draw(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{card.title}\n{card.idea}", fontsize=9)
        ax.set_xlabel(card.paper, fontsize=8)
    for ax in axes[len(cards):]:
        ax.axis("off")
    axes[len(cards)].text(0.0, 0.5, "00 welcome (you are here)\n\nEach lecture: the slides' argument,\n"
                          "the method implemented in course_lib,\nnumbers measured live,\ngraded exercises, a widget.",
                          fontsize=9, va="center")
    fig.suptitle("Further applications of ConvNets: the course map")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.05, wspace=0.15, hspace=0.45)
    return fig
