"""The `?` help screen: every key, and what the colours and marks mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# tui-lab keys

| key | what it does |
| --- | --- |
| Right or `n` | one time step forward |
| Left or `p` | one time step back (from history) |
| Home / End | first / last step |
| space | play / pause |
| `+` / `-` | play faster / slower |
| `r` | new input: start the sequence over |
| `i` | type your own input text and step through it |
| `/` | ask the model (Word2Vec: `most_similar king`, `king - man + woman`) |
| `t` | train in the background (progress bar below) |
| Escape | stop training, pause, or clear the selected unit |
| `g` | generate text (text scenarios) |
| `[` `]` | select the previous / next unit (column) |
| `{` `}` | select the previous / next row (h, c, a gate) |
| click a cell | select that unit; click again to clear |
| `z` | zoom: auto, values, colour cells |
| `o` | the scenario list |
| ctrl+p | command palette: open a scenario, set a value (`train.lr=0.01`) |
| ctrl+s | save a checkpoint (`<scenario>-<time>.npz`) |
| ctrl+e | export the scenario as set now (`<scenario>-<time>.toml`) |
| `?` | this help |
| `q` | quit |

## Reading the screen

- **Colours**: signed values (states, weights) go blue below 0 and red above;
  0..1 values (gates, probabilities) go from the background to green. Each
  matrix prints its range beside a legend. Numbers are printed when they fit;
  otherwise the cells are colour only (`z` to change).
- **Changed cells** since the last step are underlined (or carry a dot `•`).
- **Selected unit**: its column is highlighted in every matrix over the same
  units, and the input strip is coloured by that unit's value at each step:
  hunt for the unit that fires inside a word or after a space.
- The status line shows `t = N` (the current step), the training step and the
  last loss.

Press Escape, `q` or `?` to close.
"""


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss()
