"""Train page (coming soon): says what it will do and sends the user to Data."""

import streamlit as st

st.title("Train")
st.info(
    "This page will train and tune models on a dataset version,"
    " with cross-validation, metrics, curves and explanations."
    " It is being built.",
    icon=":material/construction:")
st.write("Meanwhile, load or upload a dataset on the Data page.")
st.page_link("pages/data.py", label="Go to Data", icon=":material/table:")
