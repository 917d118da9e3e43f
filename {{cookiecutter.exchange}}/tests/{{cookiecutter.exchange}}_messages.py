{% include cookiecutter.__flavour ~ "/messages.py.jinja" %}
