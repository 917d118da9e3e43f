{% include cookiecutter.__flavour ~ "/constants.py.jinja" %}
