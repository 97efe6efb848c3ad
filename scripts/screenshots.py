"""Refresh the README's screenshots of the Temporal Web UI from a running `consult dev`.

Usage: with `make run` up in another shell, `make screenshots`. Uses Debian's
Chromium through Playwright (never `playwright install`).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from playwright.async_api import async_playwright

from consult.binaries import CHROMIUM, CHROMIUM_ARGS


async def main(ui: str, workflow_id: str, out: Path, link: str | None) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        if link:
            # A counterpart's page, as a phone shows it (GET only: nothing is recorded).
            phone = await browser.new_page(viewport={"width": 430, "height": 1100})
            await phone.goto(link)
            await phone.screenshot(path=out / "gateway-approval-page.png", full_page=True)
        page = await browser.new_page(viewport={"width": 1440, "height": 900})
        query = "WorkflowType='Consultation'"
        await page.goto(f"{ui}/namespaces/default/workflows?query={query}")
        await page.get_by_text(workflow_id).first.wait_for()
        await page.screenshot(path=out / "temporal-ui-list.png")
        await page.goto(f"{ui}/namespaces/default/workflows/{workflow_id}")
        await page.get_by_text("Joint Declaration on Critical Minerals").first.wait_for()
        await page.wait_for_timeout(1500)
        await page.screenshot(path=out / "temporal-ui-consultation.png")
        await page.get_by_text("User Metadata", exact=True).first.click()
        await page.wait_for_timeout(2500)
        await page.screenshot(path=out / "temporal-ui-metadata.png")
        await page.get_by_text("Search Attributes", exact=True).first.click()
        await page.wait_for_timeout(2000)
        await page.screenshot(path=out / "temporal-ui-search-attributes.png")
        await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ui", default="http://127.0.0.1:8233")
    parser.add_argument("--workflow-id", default="consultation-cl-us-critical-minerals-2026")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--link", help="an approval link from the outbox, to picture the gateway page too")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.ui, args.workflow_id, args.out, args.link))
