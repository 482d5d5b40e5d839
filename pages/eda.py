"""EDA page (coming soon): says what it will do and sends the user to Data."""

import streamlit as st

st.title("EDA")
st.info(
    "This page will explore a dataset version: per-column statistics, distributions, correlations, missing values,"
    " outliers, target-vs-feature views, and a full profiling report."
    " It is being built.",
    icon=":material/construction:")
st.write("Meanwhile, load or upload a dataset on the Data page.")
st.page_link("pages/data.py", label="Go to Data", icon=":material/table:")
