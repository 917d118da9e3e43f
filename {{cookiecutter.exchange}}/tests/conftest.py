{% include cookiecutter.__flavour ~ "/conftest.py.jinja" %}
