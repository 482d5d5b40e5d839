"""Benchmarks page (coming soon): says what it will do and sends the user to Data."""

import streamlit as st

st.title("Benchmarks")
st.info(
    "This page will compare every trained model in one leaderboard with charts and export."
    " It is being built.",
    icon=":material/construction:")
st.write("Meanwhile, load or upload a dataset on the Data page.")
st.page_link("pages/data.py", label="Go to Data", icon=":material/table:")
