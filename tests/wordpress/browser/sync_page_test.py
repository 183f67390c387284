#!/usr/bin/python3
"""The Closte Sync admin page in a real headless browser (Chromium through Selenium).

Runs against the network tests/wordpress/harness.sh stood up (its state.env), logged in as the
super admin, after the PHPUnit suite (tests/wordpress/run.sh). The background queue is run by
this test through wp.php (the stand-in Action Scheduler never runs by itself), so every state
of the page can be seen. Exits non-zero on the first failed assertion, with a screenshot and the
page's HTML in target/browser/.

Usage: /usr/bin/python3 tests/wordpress/browser/sync_page_test.py  (CLOSTE_E2E_DIR, default /tmp/closte-e2e)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
WP_PHP = os.path.join(HERE, '..', 'bin', 'wp.php')
ARTIFACTS = os.path.join(REPO, 'target', 'browser')
PAGE = '/wp-admin/network/settings.php?page=closte-native-sync'

# The arranged network: a mapped domain and its www form (in use), an alias this plugin added
# that nothing uses any more, and one added by hand that nothing uses. The unused ones are long,
# so that at 400 px their cells must wrap.
MAPPED = 'alpha-shop.com'
TWIN = 'www.alpha-shop.com'
OWNED_UNUSED = 'retired-customer-storefront.old-shop-example.com'
HAND_ADDED = 'hand-added-by-the-operator.legacy-landing-page.example'


def read_state():
    e2e = os.environ.get('CLOSTE_E2E_DIR', '/tmp/closte-e2e')
    state = {}
    with open(os.path.join(e2e, 'state.env')) as f:
        for line in f:
            if '=' in line:
                key, value = line.rstrip('\n').split('=', 1)
                state[key] = value
    return state


STATE = read_state()
NETWORK = STATE['CLOSTE_E2E_NETWORK']
BASE = 'http://' + NETWORK


def wp(*args, check=True):
    """wp.php in a process of its own, with the implementation the network runs on."""
    impl = ['-d', 'extension=curl', '-d', 'extension=intl'] if STATE['CLOSTE_E2E_IMPL'] == 'php' \
        else ['-d', 'extension=' + STATE['CLOSTE_E2E_SO']]
    cmd = ['php', '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli'] + impl + \
        ['-d', 'error_reporting=-1', '-d', 'display_errors=stderr', WP_PHP] + list(args)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError('wp.php %s exited %d: %s %s' % (' '.join(args), done.returncode, done.stdout, done.stderr))
    return done.stdout


def wp_background(*args):
    impl = ['-d', 'extension=curl', '-d', 'extension=intl'] if STATE['CLOSTE_E2E_IMPL'] == 'php' \
        else ['-d', 'extension=' + STATE['CLOSTE_E2E_SO']]
    cmd = ['php', '-n', '-d', 'extension=mysqlnd', '-d', 'extension=mysqli'] + impl + \
        ['-d', 'error_reporting=-1', '-d', 'display_errors=stderr', WP_PHP] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sim(method, path, body=None):
    """The simulator's control API (README: The Closte simulator)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request('http://127.0.0.1:%s/__sim%s' % (STATE['CLOSTE_E2E_SIM_PORT'], path),
                                     data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read().decode()
    return json.loads(text) if text.strip() else {}


def sim_domains():
    return sorted(d['domain'] for d in sim('GET', '/state')['domains'])


def start_browser():
    profile = tempfile.mkdtemp(prefix='closte-chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for flag in [
        '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
        '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--window-size=1280,1000', '--user-data-dir=' + profile,
        # The network's domain reaches PHP's built-in server; the Host header stays the network's.
        '--host-resolver-rules=MAP %s 127.0.0.1:%s' % (NETWORK, STATE['CLOSTE_E2E_WEB_PORT']),
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
    driver.set_page_load_timeout(60)
    return driver, profile


def log_in(driver):
    """The super admin's auth cookies, as E2eTestCase::webRequest sends them."""
    driver.get(BASE + '/wp-login.php')
    for pair in wp('cookies', '1').strip().split('; '):
        name, value = pair.split('=', 1)
        driver.add_cookie({'name': name, 'value': value, 'path': '/'})


class Check:
    """Assertions that name what was expected and what the page showed."""

    def __init__(self, driver):
        self.driver = driver
        self.count = 0

    def true(self, condition, message):
        self.count += 1
        if not condition:
            raise AssertionError(message)

    def equal(self, expected, actual, message):
        self.count += 1
        if expected != actual:
            raise AssertionError('%s: expected %r, got %r' % (message, expected, actual))

    def contains(self, needle, haystack, message):
        self.count += 1
        if needle not in haystack:
            raise AssertionError('%s: %r not in %r' % (message, needle, haystack))


def wait_for(condition, message, timeout=30.0, interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition()
            if last:
                return last
        except (StaleElementReferenceException, JavascriptException):
            pass
        time.sleep(interval)
    raise AssertionError('timed out after %.0f s waiting for: %s (last: %r)' % (timeout, message, last))


def present(driver, css):
    return driver.find_elements(By.CSS_SELECTOR, css)


def names_in(driver, table_class):
    return [c.text.strip() for c in driver.find_elements(By.CSS_SELECTOR, 'table.%s tbody td.closte-native-name' % table_class)]


def reason_of(driver, table_class, name):
    for row in driver.find_elements(By.CSS_SELECTOR, 'table.%s tbody tr' % table_class):
        if row.find_element(By.CSS_SELECTOR, 'td.closte-native-name').text.strip() == name:
            return row.find_element(By.CSS_SELECTOR, 'td.closte-native-reason').text.strip()
    return None


def tab_to(driver, element_id, limit=250):
    """Presses Tab until the element with element_id has the focus (the keyboard path to it)."""
    for _ in range(limit):
        if driver.execute_script('return document.activeElement && document.activeElement.id') == element_id:
            return driver.switch_to.active_element
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError('Tab never reached #%s' % element_id)


# Each name cell's rendered lines, as the characters at which a new line starts: a line may only
# start after a dot or a hyphen (the <wbr> break opportunities), never inside a label.
LINE_BREAKS_JS = r"""
const out = [];
for (const cell of document.querySelectorAll('td.closte-native-name')) {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rects = range.getClientRects();
      if (rects.length) chars.push([node.data[i], rects[0].top]);
    }
  }
  const breaks = [];
  for (let i = 1; i < chars.length; i++) {
    if (chars[i][1] > chars[i - 1][1] + 2) breaks.push(chars[i - 1][0] + '|' + chars[i][0]);
  }
  out.push({text: cell.textContent.trim(), breaks: breaks,
            overflow: cell.scrollWidth > cell.clientWidth + 1, wbr: cell.querySelectorAll('wbr').length});
}
return out;
"""


def test_page_renders(driver, check):
    driver.get(BASE + PAGE)
    check.true(driver.current_url.startswith(BASE + PAGE), 'logged in, on the page: ' + driver.current_url)
    check.equal('Closte Sync', driver.find_element(By.CSS_SELECTOR, '.wrap h1').text, 'the page heading')
    check.true(present(driver, 'input[name="prune"]'), 'the start form')


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    started = time.time()
    driver, profile = start_browser()
    check = Check(driver)
    current = None
    try:
        log_in(driver)
        for test in (test_page_renders,):
            current = test.__name__
            t0 = time.time()
            test(driver, check)
            print('browser: %s ok (%.1f s)' % (current, time.time() - t0))
    except Exception:
        traceback.print_exc()
        shot = os.path.join(ARTIFACTS, '%s-%s.png' % (STATE['CLOSTE_E2E_IMPL'], current))
        try:
            driver.save_screenshot(shot)
            with open(shot[:-4] + '.html', 'w') as f:
                f.write(driver.page_source)
            print('browser: FAILED in %s; screenshot %s, page %s' % (current, shot, shot[:-4] + '.html'), file=sys.stderr)
        except Exception:  # the browser itself may be gone
            print('browser: FAILED in %s (no screenshot)' % current, file=sys.stderr)
        return 1
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print('browser: %d checks passed in %.1f s (Chromium %s, closte %s, Ultimate Multisite %s stand-in)' % (
        check.count, time.time() - started, driver.capabilities.get('browserVersion'), STATE['CLOSTE_E2E_IMPL'], STATE['CLOSTE_E2E_UM']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
