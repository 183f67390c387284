#!/usr/bin/python3
"""The Closte Sync admin page in a real headless browser (Chromium through Selenium).

Runs against the network tests/wordpress/harness.sh stood up (its state.env), logged in as the
super admin, after the PHPUnit suite (tests/wordpress/run.sh). The background queue is run by
this test through wp.php (the stand-in Action Scheduler never runs by itself), so every state
of the page can be seen. Exits non-zero on the first failed assertion, with a screenshot and the
page's HTML in target/browser/.

Usage: /usr/bin/python3 tests/wordpress/browser/sync_page_test.py  (CLOSTE_E2E_DIR, default /tmp/closte-e2e)
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
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
    """The simulator's control API (docs/simulator.md)."""
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


def stop_browser(driver, profile):
    """Quits Chromium and deletes its profile. A helper process may still write there for a moment
    after quit(), so the removal is tried until the directory is gone (5 s at most): make test
    fails on a temporary directory left behind (scripts/leftovers.sh)."""
    try:
        driver.quit()
    finally:
        deadline = time.time() + 5
        while os.path.exists(profile) and time.time() < deadline:
            shutil.rmtree(profile, ignore_errors=True)
            if os.path.exists(profile):
                time.sleep(0.2)
        if os.path.exists(profile):
            print('browser: could not delete the profile %s' % profile, file=sys.stderr)


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


def test_sync_flow(driver, check):
    # ---------------------------------------------------------------- arrange
    wp('browser-reset')
    sim('POST', '/reset')
    sim('POST', '/config', {'latency_ms': 0, 'api_keys': [STATE['CLOSTE_E2E_KEY']]})
    sim('POST', '/domains', {'domains': [NETWORK, MAPPED, TWIN, OWNED_UNUSED, HAND_ADDED]})
    wp('browser-record', MAPPED, '1')
    wp('browser-own', OWNED_UNUSED, '1')

    # ---------------------------------------------------------------- start page, by keyboard
    driver.get(BASE + PAGE)
    check.equal('Closte Sync', driver.find_element(By.CSS_SELECTOR, '.wrap h1').text, 'the page heading')
    check.equal([], present(driver, '[role="status"]'), 'nothing in progress yet')
    # Sequential focus navigation starts where the user clicked: the heading, then Tab onwards.
    driver.find_element(By.CSS_SELECTOR, '.wrap h1').click()
    tab_to(driver, 'closte-native-prune').send_keys(Keys.SPACE)
    check.true(driver.find_element(By.ID, 'closte-native-prune').is_selected(), 'Space ticks "also remove"')
    tab_to(driver, 'closte-native-preview').send_keys(Keys.ENTER)

    # ---------------------------------------------------------------- queued preview, in place
    status = wait_for(lambda: present(driver, '#closte-native-sync-progress'), 'the progress region after Preview')[0]
    check.equal('status', status.get_attribute('role'), 'the progress region is a status')
    check.equal('polite', status.get_attribute('aria-live'), 'the progress region is announced politely')
    check.true('closte_error' not in driver.current_url, 'the URL carries no error code: ' + driver.current_url)
    check.contains('queued', status.text, 'the preview is queued')
    check.true(present(driver, 'a.closte-native-sync-refresh'), 'a Refresh link for browsers without JavaScript')
    check.true(present(driver, '.closte-native-sync-cancel button, .closte-native-sync-cancel input[type=submit]'), 'Cancel while queued')
    check.equal([], present(driver, 'meta[http-equiv="refresh"]'), 'no full-page refresh')
    driver.execute_script('window.closteNoNavigation = "same document";')

    wp('run-queue')
    wait_for(lambda: present(driver, 'table.closte-native-to-remove'), 'the plan replaces the progress region')
    check.equal('same document', driver.execute_script('return window.closteNoNavigation || null'),
                'the plan was shown without loading the page again')

    # ---------------------------------------------------------------- the plan
    check.equal([OWNED_UNUSED], names_in(driver, 'closte-native-to-remove'), 'To remove: exactly the owned unused alias')
    check.true(TWIN in names_in(driver, 'closte-native-kept'), 'www.%s is kept' % MAPPED)
    twin_reason = reason_of(driver, 'closte-native-kept', TWIN) or ''
    check.true(MAPPED in twin_reason.replace(TWIN, ''), 'the twin reason names the used form: %r' % twin_reason)
    check.equal([HAND_ADDED], names_in(driver, 'closte-native-unowned'), 'Not added by this plugin: the hand-added alias')
    boxes = driver.find_elements(By.CSS_SELECTOR, 'table.closte-native-unowned input[type=checkbox]')
    check.equal(1, len(boxes), 'one checkbox per unowned alias')
    check.true(not boxes[0].is_selected(), 'unowned aliases are not ticked by default')
    for table in driver.find_elements(By.CSS_SELECTOR, 'table.closte-native-table'):
        check.true(table.find_elements(By.CSS_SELECTOR, 'thead th[scope="col"]'), 'each table has column headers')
    typed = driver.find_element(By.ID, 'closte-native-typed')
    check.equal('true', typed.get_attribute('required'), 'the typed confirmation is required')
    label = driver.find_element(By.CSS_SELECTOR, 'label[for="closte-native-typed"]').text
    check.contains('This removes 1 of 5 aliases (more than 10 %)', label, 'the typed confirmation says why')
    check.contains('remove 1', label, 'and what to type')

    # ---------------------------------------------------------------- 400 px: names wrap at dots and hyphens only
    driver.set_window_size(400, 1000)
    width = driver.execute_script('return window.innerWidth')
    check.true(width <= 420, 'the window is narrow: %d px' % width)
    cells = driver.execute_script(LINE_BREAKS_JS)
    check.true(len(cells) >= 3, 'name cells measured: %r' % cells)
    wrapped = 0
    for cell in cells:
        for pair in cell['breaks']:
            check.true(pair[0] in '.-', 'at 400 px %r breaks only after a dot or hyphen, not at %r' % (cell['text'], pair))
        check.true(not cell['overflow'], 'at 400 px %r fits its cell' % cell['text'])
        wrapped += 1 if cell['breaks'] else 0
    check.true(wrapped > 0, 'at least one long name wraps at 400 px (else this check proves nothing): %r' % cells)
    for cell in cells:
        check.equal(cell['text'].count('.') + cell['text'].count('-'), cell['wbr'], 'a <wbr> after each dot and hyphen of %r' % cell['text'])
    driver.set_window_size(1280, 1000)

    # ---------------------------------------------------------------- a refusal: shown once, beside its field
    typed.send_keys('remove 9')
    driver.find_element(By.ID, 'closte-native-run').click()
    wait_for(lambda: present(driver, '#closte-native-typed-error'), 'the refusal beside the typed field')
    check.true('closte_error' not in driver.current_url, 'the refusal is not in the URL: ' + driver.current_url)
    check.contains('remove 1', driver.find_element(By.ID, 'closte-native-typed-error').text, 'the refusal names the phrase')
    check.contains('closte-native-typed-error', driver.find_element(By.ID, 'closte-native-typed').get_attribute('aria-describedby') or '',
                   'the field is described by its refusal')
    driver.get(BASE + PAGE)
    check.equal([], present(driver, '#closte-native-typed-error') + present(driver, '.closte-native-sync-error'), 'a refusal is shown once')
    check.equal([OWNED_UNUSED], names_in(driver, 'closte-native-to-remove'), 'the plan is still there')

    # ---------------------------------------------------------------- ticking an unowned alias asks for its own phrase
    unowned_field = driver.find_element(By.ID, 'closte-native-unowned-typed')
    check.true(unowned_field.get_attribute('required') is None, 'no unowned phrase needed while nothing is ticked')
    box = driver.find_element(By.CSS_SELECTOR, 'table.closte-native-unowned input[type=checkbox]')
    box.send_keys(Keys.SPACE)
    check.equal('true', unowned_field.get_attribute('required'), 'a ticked unowned alias makes its phrase required')
    check.contains('"remove 1 unowned"', driver.find_element(By.CSS_SELECTOR, 'label[for="closte-native-unowned-typed"]').text,
                   'the label names the exact phrase for one ticked alias')
    box.send_keys(Keys.SPACE)
    check.true(unowned_field.get_attribute('required') is None, 'unticked again: no phrase needed')

    # ---------------------------------------------------------------- confirm, by keyboard
    driver.find_element(By.ID, 'closte-native-typed').send_keys('remove 1')
    tab_to(driver, 'closte-native-run').send_keys(Keys.ENTER)
    status = wait_for(lambda: present(driver, '#closte-native-sync-progress'), 'the progress region after confirming')[0]
    check.contains('queued', status.text, 'the run is queued')
    driver.execute_script(r"""
        window.closteNoNavigation = 'same document';
        window.closteSeen = [];
        const region = document.getElementById('closte-native-sync-progress');
        new MutationObserver(() => window.closteSeen.push(region.textContent.trim()))
            .observe(region, {subtree: true, childList: true, characterData: true});
    """)
    # Slow answers keep the run going across several polls.
    sim('POST', '/config', {'latency_ms': 2500})
    runner = wp_background('run-queue')
    try:
        wait_for(lambda: present(driver, 'table.closte-native-removed'), 'the report replaces the progress region', timeout=60)
    finally:
        out, err = runner.communicate(timeout=60)
        sim('POST', '/config', {'latency_ms': 0})
    check.equal(0, runner.returncode, 'run-queue: %s %s' % (out, err))
    check.equal('same document', driver.execute_script('return window.closteNoNavigation || null'),
                'progress and report were shown without loading the page again')
    seen = driver.execute_script('return window.closteSeen')
    check.true(any('queued' not in text for text in seen), 'the progress region changed in place while the job ran: %r' % seen)

    # ---------------------------------------------------------------- the report
    check.equal([OWNED_UNUSED], names_in(driver, 'closte-native-removed'), 'removed: the owned alias only')
    domains = sim_domains()
    check.true(OWNED_UNUSED not in domains, 'Closte no longer holds %s: %r' % (OWNED_UNUSED, domains))
    for kept in (TWIN, HAND_ADDED, MAPPED):
        check.true(kept in domains, 'Closte still holds %s: %r' % (kept, domains))


def test_failed_preview_and_cancel(driver, check):
    # A preview that cannot read Closte's list: no counts, the reason, and Retry.
    wp('browser-reset')
    sim('POST', '/reset')
    sim('POST', '/config', {'latency_ms': 0, 'api_keys': ['another-key']})
    driver.get(BASE + PAGE)
    driver.find_element(By.ID, 'closte-native-prune').click()
    driver.find_element(By.ID, 'closte-native-preview').click()
    wait_for(lambda: present(driver, '#closte-native-sync-progress'), 'the progress region')
    wp('run-queue')
    unreachable = wait_for(lambda: present(driver, '.closte-native-sync-unreachable'), 'the failed preview')[0]
    check.contains('CLOSTE_CLIENT_API_KEY', unreachable.text, 'the failed preview says why')
    check.equal([], present(driver, 'table.closte-native-table'), 'a failed preview shows no tables of counts')
    check.true(not re.search(r'\b0 to add\b', driver.find_element(By.CSS_SELECTOR, '.wrap').text), 'no 0-counts')
    check.equal([], present(driver, '#closte-native-run'), 'nothing to run')
    retry = driver.find_element(By.ID, 'closte-native-retry')
    check.equal('1', driver.find_element(By.CSS_SELECTOR, '#closte-native-sync-retry input[name="prune"]').get_attribute('value'),
                'Retry keeps the prune choice')

    # Retry queues a new preview; Cancel drops it while it is queued.
    sim('POST', '/config', {'api_keys': [STATE['CLOSTE_E2E_KEY']]})
    retry.click()
    wait_for(lambda: present(driver, '#closte-native-sync-progress'), 'the retried preview is queued')
    driver.find_element(By.CSS_SELECTOR, '.closte-native-sync-cancel button, .closte-native-sync-cancel input[type=submit]').click()
    wait_for(lambda: not present(driver, '#closte-native-sync-progress'), 'Cancel leaves the progress view')
    wp('run-queue')
    check.equal('idle', wp('browser-sync-status').strip(), 'the cancelled preview left no sync behind')


def request(method, path, form=None, cookies=''):
    """A plain request to the network (no browser), with the user's cookies."""
    connection = http.client.HTTPConnection('127.0.0.1', int(STATE['CLOSTE_E2E_WEB_PORT']), timeout=60)
    body = urllib.parse.urlencode(form or {}, doseq=True)
    connection.request(method, path, body=body, headers={
        'Host': NETWORK, 'Cookie': cookies, 'Content-Type': 'application/x-www-form-urlencoded'})
    answer = connection.getresponse()
    text = answer.read().decode(errors='replace')
    connection.close()
    return answer.status, text


def test_nothing_to_change(driver, check):
    """Closte already holds what the network uses: no run is offered."""
    wp('browser-reset')
    sim('POST', '/reset')
    sim('POST', '/config', {'latency_ms': 0, 'api_keys': [STATE['CLOSTE_E2E_KEY']]})
    sim('POST', '/domains', {'domains': [NETWORK]})
    driver.get(BASE + PAGE)
    driver.find_element(By.ID, 'closte-native-preview').click()
    wait_for(lambda: present(driver, '#closte-native-sync-progress'), 'the progress region')
    wp('run-queue')
    wait_for(lambda: present(driver, '.closte-native-nothing'), 'Nothing to change')
    check.equal([], present(driver, '#closte-native-run'), 'no Run button when there is nothing to do')
    check.equal([], present(driver, '#closte-native-sync-confirm'), 'no confirmation form either')


def test_entries_refuse_others(driver, check):
    """Every entry (admin-post steps, the status endpoint) refuses a site administrator who is
    not a super admin, and a super admin without a valid nonce."""
    wp('browser-reset')
    other = wp('browser-user', 'closte-browser-site-admin').strip()
    admin = wp('cookies', '1').strip()
    site_admin = wp('cookies', other).strip()
    for step in ('preview', 'apply', 'discard', 'cancel'):
        status, body = request('POST', '/wp-admin/admin-post.php', {'action': 'closte_native_sync', 'step': step, 'prune': '1'}, site_admin)
        check.equal(403, status, 'admin-post step %s as a site administrator' % step)
        check.contains('not allowed', body, 'step %s refused for the capability' % step)
        status, body = request('POST', '/wp-admin/admin-post.php', {'action': 'closte_native_sync', 'step': step, '_wpnonce': 'forged'}, admin)
        check.equal(403, status, 'admin-post step %s with a forged nonce' % step)
        check.contains('link you followed has expired', body, 'step %s refused for the nonce' % step)
    status, body = request('POST', '/wp-admin/admin-ajax.php', {'action': 'closte_native_sync_status', 'nonce': 'forged'}, site_admin)
    check.equal(403, status, 'the status endpoint as a site administrator')
    check.contains('not allowed', body, 'the status endpoint refused for the capability')
    status, body = request('POST', '/wp-admin/admin-ajax.php', {'action': 'closte_native_sync_status', 'nonce': 'forged'}, admin)
    check.equal(403, status, 'the status endpoint with a forged nonce')
    check.contains('expired', body, 'the status endpoint refused for the nonce')
    check.equal('idle', wp('browser-sync-status').strip(), 'no refused request changed the sync')


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    started = time.time()
    driver, profile = start_browser()
    check = Check(driver)
    current = None
    try:
        log_in(driver)
        for test in (test_sync_flow, test_failed_preview_and_cancel, test_nothing_to_change, test_entries_refuse_others):
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
        stop_browser(driver, profile)
    print('browser: %d checks passed in %.1f s (Chromium %s, closte %s, Ultimate Multisite %s stand-in)' % (
        check.count, time.time() - started, driver.capabilities.get('browserVersion'), STATE['CLOSTE_E2E_IMPL'], STATE['CLOSTE_E2E_UM']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
