"""The transparent, maximally fair stratified draw. Pure Python, no Streamlit."""
