"""`recochat eval simulate`: simulated seekers against the real Session.

Each seeker wants one gold item of a dialogue dataset (the target) and knows only
its attributes (genres, people, era, plot words), never its title:

  targets.py   the gold items of a turns file, and what a seeker may know of each
  leakage.py   the guard: does an utterance name the target (title, aliases)?
  agenda.py    the agenda-based seeker (no LLM): opening, answers, rejections
  phrasing.py  the LLM-phrased variant: the local model rewords each agenda utterance
  runner.py    one dialogue per target against a real App; success per turn
  report.py    the summary, the JSON report and the plot
"""
