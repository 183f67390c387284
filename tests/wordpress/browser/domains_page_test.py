#!/usr/bin/python3
"""The Closte Domains admin page in a real headless browser (Chromium through Selenium).

Runs after sync_page_test.py against the same network (tests/wordpress/run.sh), logged in as the
super admin, with the same setup (sync_page_test's helpers: the harness's state.env, wp.php, the
simulator's control API, Chromium and its driver from Debian). Checks that the page renders its
rows; that an action runs in place (the row is replaced, the result and its log line appear, the
page is not loaded again); that at 400 px the page does not scroll sideways and the actions stay
reachable; and that the keyboard alone reaches a row action (Tab) and runs it (Enter). Exits
non-zero on the first failed assertion, with a screenshot and the page's HTML in target/browser/.

Usage: /usr/bin/python3 tests/wordpress/browser/domains_page_test.py  (CLOSTE_E2E_DIR, default /tmp/closte-e2e)
"""

import os
import sys
import time
import traceback

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from sync_page_test import ARTIFACTS, BASE, NETWORK, STATE, Check, log_in, present, sim, sim_domains, start_browser, stop_browser, wait_for, wp

PAGE = '/wp-admin/network/settings.php?page=closte-native-domains'

# A mapped domain Closte has, and two it lacks (long, so that a narrow screen must cope).
HAS = 'has-alias-shop.com'
MISSING = 'missing-alias-for-a-long-customer-storefront.example-shop.com'
KEYBOARD = 'keyboard-only-operator-domain.example'


def arrange():
    wp('browser-reset')
    sim('POST', '/reset')
    sim('POST', '/config', {'latency_ms': 0, 'api_keys': [STATE['CLOSTE_E2E_KEY']]})
    sim('POST', '/domains', {'domains': [NETWORK, HAS]})
    for name in (HAS, MISSING, KEYBOARD):
        wp('browser-record', name, '1')


def row(driver, name):
    for tr in driver.find_elements(By.CSS_SELECTOR, '#closte-native-domains-form tbody tr[data-name]'):
        if tr.get_attribute('data-name') == name:
            return tr
    return None


def action_link(driver, name, action):
    tr = row(driver, name)
    links = tr.find_elements(By.CSS_SELECTOR, 'a.closte-native-run[data-action="%s"]' % action) if tr else []
    return links[0] if links else None


def alias_of(driver, name):
    tr = row(driver, name)
    return tr.find_element(By.CSS_SELECTOR, 'td.column-alias').get_attribute('textContent').strip() if tr else None


def results(driver):
    return [r.get_attribute('textContent') for r in driver.find_elements(By.CSS_SELECTOR, '#closte-native-domains-results .closte-native-domains-result')]


def test_render_and_action_in_place(driver, check):
    arrange()
    driver.set_window_size(1280, 1000)
    driver.get(BASE + PAGE)
    check.equal('Closte Domains', driver.find_element(By.CSS_SELECTOR, '.wrap h1').text, 'the page heading')
    names = [tr.get_attribute('data-name') for tr in driver.find_elements(By.CSS_SELECTOR, '#closte-native-domains-form tbody tr[data-name]')]
    for name in (NETWORK, HAS, MISSING, KEYBOARD):
        check.true(name in names, '%s has a row: %r' % (name, names))
    check.true(alias_of(driver, HAS).startswith('Yes'), 'Closte has %s: %r' % (HAS, alias_of(driver, HAS)))
    check.equal('No', alias_of(driver, MISSING), 'Closte lacks %s' % MISSING)
    check.true(action_link(driver, HAS, 'add_alias') is None, 'no "Add alias now" where Closte has the alias')
    check.equal([], actions_off_screen(driver), 'every row shows its actions without hovering')
    attention = driver.find_element(By.CSS_SELECTOR, '.closte-native-count[data-view="needs_attention"]').text
    check.true(int(attention) >= 2, 'at least the two missing aliases need attention: %s' % attention)

    driver.execute_script('window.closteNoNavigation = "same document";')
    action_link(driver, MISSING, 'add_alias').click()
    wait_for(lambda: any('was added as an alias' in text for text in results(driver)), 'the result of "Add alias now" in place')
    check.equal('same document', driver.execute_script('return window.closteNoNavigation || null'), 'no page load for the action')
    lines = [li.get_attribute('textContent') for li in driver.find_elements(By.CSS_SELECTOR, '#closte-native-domains-results .closte-native-log-lines li')]
    check.true(any(line.startswith('add_domain %s (site 1): OK state=added' % MISSING) for line in lines), 'the log line is shown: %r' % lines)
    check.true(alias_of(driver, MISSING).startswith('Yes'), 'the row now says Yes: %r' % alias_of(driver, MISSING))
    check.true(action_link(driver, MISSING, 'add_alias') is None, 'the refreshed row offers no "Add alias now"')
    check.equal(str(int(attention) - 1), driver.find_element(By.CSS_SELECTOR, '.closte-native-count[data-view="needs_attention"]').text,
                'the "Needs attention" count follows')
    check.true(MISSING in sim_domains(), 'Closte holds %s' % MISSING)
    region = driver.find_element(By.ID, 'closte-native-domains-results')
    check.equal('status', region.get_attribute('role'), 'results are announced (role=status)')


# The page must not scroll sideways: nothing wider than the viewport.
OVERFLOW_JS = r"""
const width = document.documentElement.clientWidth;
const wide = [];
for (const el of document.querySelectorAll('#wpbody-content *')) {
  const rect = el.getBoundingClientRect();
  if (rect.width > 0 && rect.right > width + 1 && getComputedStyle(el).position !== 'absolute' && !el.closest('.screen-reader-text')) {
    wide.push((el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className) + ' right=' + Math.round(rect.right));
  }
}
return {width: width, scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, wide: wide.slice(0, 8)};
"""


def actions_off_screen(driver):
    """The rows whose first action is not on screen (WordPress moves hidden row actions to -9999em)."""
    return driver.execute_script(r"""
const out = [];
for (const tr of document.querySelectorAll('#closte-native-domains-form tbody tr[data-name]')) {
  const link = tr.querySelector('.row-actions a');
  const rect = link ? link.getBoundingClientRect() : null;
  if (!rect || rect.width === 0 || rect.left < 0 || rect.right > document.documentElement.clientWidth) {
    out.push(tr.getAttribute('data-name'));
  }
}
return out;
""")


def test_narrow_screen(driver, check):
    driver.set_window_size(400, 1000)
    driver.get(BASE + PAGE)
    width = driver.execute_script('return window.innerWidth')
    check.true(width <= 420, 'the window is narrow: %d px' % width)
    measured = driver.execute_script(OVERFLOW_JS)
    check.true(measured['scroll'] <= measured['width'] and measured['body'] <= measured['width'],
               'at 400 px the page does not scroll sideways: %r' % measured)
    check.equal([], measured['wide'], 'nothing sticks out of the page at 400 px')

    tr = row(driver, KEYBOARD)
    alias_cell = tr.find_element(By.CSS_SELECTOR, 'td.column-alias')
    check.true(not alias_cell.is_displayed(), 'at 400 px the other columns collapse into the primary one')
    link = action_link(driver, KEYBOARD, 'add_alias')
    check.true(link.is_displayed(), 'the row actions are shown at 400 px')
    rect = driver.execute_script('const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];', link)
    check.true(rect[0] >= 0 and rect[1] <= width, 'the action lies within the screen: %r' % rect)
    toggle = tr.find_element(By.CSS_SELECTOR, 'button.toggle-row')
    check.true(toggle.is_displayed(), 'a toggle shows the other columns')
    toggle.click()
    wait_for(lambda: alias_cell.is_displayed(), 'the alias column after the toggle')
    measured = driver.execute_script(OVERFLOW_JS)
    check.true(measured['scroll'] <= measured['width'], 'an expanded row does not widen the page: %r' % measured)

    # An action at 400 px: the result (with long log lines) must not widen the page either.
    driver.execute_script('window.closteNoNavigation = "same document";')
    link.click()
    wait_for(lambda: any('was added as an alias' in text for text in results(driver)), 'the result at 400 px')
    check.equal('same document', driver.execute_script('return window.closteNoNavigation || null'), 'no page load at 400 px')
    measured = driver.execute_script(OVERFLOW_JS)
    check.true(measured['scroll'] <= measured['width'], 'the result and its log line fit at 400 px: %r' % measured)
    check.true(row(driver, KEYBOARD).find_element(By.CSS_SELECTOR, 'td.column-alias').is_displayed(),
               'the refreshed row stays expanded')
    check.equal([], actions_off_screen(driver), 'after an action every row still shows its actions on screen')
    driver.set_window_size(1280, 1000)


def focused_action(driver):
    return driver.execute_script(
        'const a = document.activeElement; return a && a.matches("a.closte-native-run") ? [a.getAttribute("data-name"), a.getAttribute("data-action")] : null;')


def test_keyboard_only(driver, check):
    arrange()
    driver.set_window_size(1280, 1000)
    driver.get(BASE + PAGE)
    # Sequential focus navigation starts where the user clicked: the heading, then Tab onwards.
    driver.find_element(By.CSS_SELECTOR, '.wrap h1').click()
    target = [KEYBOARD, 'add_alias']
    for _ in range(300):
        if focused_action(driver) == target:
            break
        ActionChains(driver).send_keys(Keys.TAB).perform()
    else:
        raise AssertionError('Tab never reached "Add alias now" of %s' % KEYBOARD)
    link = driver.switch_to.active_element
    check.true(link.is_displayed(), 'the focused row action is visible')
    driver.execute_script('window.closteNoNavigation = "same document";')
    link.send_keys(Keys.ENTER)
    wait_for(lambda: any(KEYBOARD in text and 'was added as an alias' in text for text in results(driver)), 'the result of Enter on the action')
    check.equal('same document', driver.execute_script('return window.closteNoNavigation || null'), 'Enter ran it in place')
    check.true(KEYBOARD in sim_domains(), 'Closte holds %s' % KEYBOARD)
    # The link pressed went with its row: the focus stays in the refreshed row, not lost on <body>.
    focus_row = driver.execute_script('const r = document.activeElement.closest("tr"); return r ? r.getAttribute("data-name") : document.activeElement.id;')
    check.equal(KEYBOARD, focus_row, 'the focus is in the refreshed row')
    check.equal([], actions_off_screen(driver), 'with the focus on one row action, the other rows still show theirs')

    # A bulk action by keyboard: Space ticks a row, the select and Apply run it in place.
    box = row(driver, MISSING).find_element(By.CSS_SELECTOR, 'th.check-column input[type=checkbox]')
    box.send_keys(Keys.SPACE)
    check.true(box.is_selected(), 'Space ticks the row')
    select = driver.find_element(By.ID, 'bulk-action-selector-top')
    select.send_keys('Add alias now')
    driver.find_element(By.ID, 'doaction').send_keys(Keys.ENTER)
    wait_for(lambda: any(MISSING in text and 'was added as an alias' in text for text in results(driver)), 'the bulk result')
    check.equal('same document', driver.execute_script('return window.closteNoNavigation || null'), 'the bulk action ran in place')

    # "Sync preview" opens the Sync page pointed at this name.
    row(driver, HAS).find_element(By.CSS_SELECTOR, 'a.closte-native-sync-link').send_keys(Keys.ENTER)
    notice = wait_for(lambda: present(driver, '.closte-native-sync-focus'), 'the Sync page pointed at %s' % HAS)[0]
    check.equal(HAS, notice.get_attribute('data-domain'), 'the Sync page names the domain')


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    started = time.time()
    driver, profile = start_browser()
    check = Check(driver)
    current = None
    try:
        log_in(driver)
        for test in (test_render_and_action_in_place, test_narrow_screen, test_keyboard_only):
            current = test.__name__
            t0 = time.time()
            test(driver, check)
            print('browser: %s ok (%.1f s)' % (current, time.time() - t0))
    except Exception:
        traceback.print_exc()
        shot = os.path.join(ARTIFACTS, 'domains-%s-%s.png' % (STATE['CLOSTE_E2E_IMPL'], current))
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
    print('browser: Closte Domains: %d checks passed in %.1f s (closte %s, Ultimate Multisite %s stand-in)' % (
        check.count, time.time() - started, STATE['CLOSTE_E2E_IMPL'], STATE['CLOSTE_E2E_UM']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
