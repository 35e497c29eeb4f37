"""The fleet dashboard: a static page (index.html, app.js, style.css) and the Python around it.

site.py says what the site is (files, vendor libraries, config document, headers) for every
server of it; browser.py drives headless Chromium (screenshots, the browser tests);
publish.py uploads the site to the deployed stack's bucket.
"""
