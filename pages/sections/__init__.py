"""Sections of the longer pages, each drawn by the page that imports it: draw_*.py for pages/draw.py,
signups_*.py for pages/signups.py.

Not pages themselves: app.py's st.navigation lists only the files in its PAGES, and Streamlit's
old "pages folder" mode reads pages/*.py only, never a subfolder. Like the pages, a section reads
state, calls lib and draws; what to show is worked out in lib.
"""
