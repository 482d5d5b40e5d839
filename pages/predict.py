"""Predict page (coming soon): says what it will do and sends the user to Data."""

import streamlit as st

st.title("Predict")
st.info(
    "This page will answer predictions for one row or a whole file, explain them, and watch for drift."
    " It is being built.",
    icon=":material/construction:")
st.write("Meanwhile, load or upload a dataset on the Data page.")
st.page_link("pages/data.py", label="Go to Data", icon=":material/table:")
