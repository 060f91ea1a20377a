"""What the dashboard needs on top of the core, and a notebook may reuse: the experiment settings and
share-URL rules (`settings`), one experiment end to end (`experiment`), the status texts and equations
with numbers (`explain`), and Altair charts of runs (`charts`). Needs the `dashboard` extra (altair);
nothing here imports Streamlit, and nothing in the core imports this package.
"""
