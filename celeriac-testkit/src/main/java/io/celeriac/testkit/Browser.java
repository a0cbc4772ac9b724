package io.celeriac.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium for tests of web pages: Debian's {@code /usr/bin/chromium} driven through
 * {@code /usr/bin/chromedriver} by Selenium, with both paths given so that Selenium Manager never
 * looks for (or downloads) a browser or a driver, a fresh profile in a temporary directory, and no
 * background networking, component updates or sync. The tests that use it declare
 * {@code org.seleniumhq.selenium:selenium-java} (optional here) in test scope.
 */
public final class Browser implements AutoCloseable {
    /** Debian's chromium. */
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    /** Debian's chromium-driver. */
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** A desktop window. */
    public static final Dimension DESKTOP = new Dimension(1280, 900);
    /** A phone's width (a 390 × 844 CSS-pixel screen). */
    public static final Dimension PHONE = new Dimension(390, 844);

    private final ChromeDriver driver;
    private final ChromeDriverService service;
    private final Path profile;

    private Browser(ChromeDriver driver, ChromeDriverService service, Path profile) {
        this.driver = driver;
        this.service = service;
        this.profile = profile;
    }

    /**
     * Whether Chromium and its driver are installed ({@code run-tests} installs them when missing).
     *
     * @return whether both programs are there
     */
    public static boolean available() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    /**
     * Starts a headless Chromium with a window of {@code size}.
     *
     * @param size the window's size
     * @return the browser; close it
     * @throws IOException when its profile directory cannot be made
     */
    public static Browser start(Dimension size) throws IOException {
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        Path profile = Files.createTempDirectory("celeriac-chromium-");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=" + size.getWidth() + "," + size.getHeight(), "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort().build();
        try {
            ChromeDriver d = new ChromeDriver(service, o);
            d.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
            return new Browser(d, service, profile);
        } catch (RuntimeException e) {
            service.stop();
            delete(profile);
            throw e;
        }
    }

    /**
     * The Selenium driver, for what this class does not offer.
     *
     * @return the driver
     */
    public WebDriver driver() {
        return driver;
    }

    /**
     * Loads {@code url} and waits for the page to load.
     *
     * @param url the address
     * @return this
     */
    public Browser open(String url) {
        driver.get(url);
        return this;
    }

    /**
     * The element with this id.
     *
     * @param id its id
     * @return it
     * @throws org.openqa.selenium.NoSuchElementException when there is none
     */
    public WebElement byId(String id) {
        return driver.findElement(By.id(id));
    }

    /**
     * The elements that match a CSS selector.
     *
     * @param css the selector
     * @return them, maybe none
     */
    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /**
     * Waits until {@code condition} gives a value that is not null or false (Selenium's wait: not-found
     * elements and stale ones (a live update replaced them) are retried).
     *
     * @param <T> the value's type
     * @param timeout how long at most
     * @param condition the condition, given the driver
     * @return its last value
     * @throws AssertionError on time-out, with the page's address and text
     */
    public <T> T await(Duration timeout, Function<WebDriver, T> condition) {
        try {
            return new WebDriverWait(driver, timeout, Duration.ofMillis(200))
                    .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition);
        } catch (org.openqa.selenium.TimeoutException e) {
            String text = driver.findElement(By.tagName("body")).getText();
            throw new AssertionError("timed out after " + timeout + " on " + driver.getCurrentUrl() + "; the page says:\n"
                    + (text.length() > 3000 ? text.substring(0, 3000) + "…" : text), e);
        }
    }

    /**
     * Resizes the window.
     *
     * @param size the new size
     */
    public void resize(Dimension size) {
        driver.manage().window().setSize(size);
    }

    /**
     * Writes a PNG of the whole page (the window made as tall as the page, up to 6,000 pixels, then set back).
     *
     * @param file where to write it
     * @return the file
     * @throws IOException when it cannot be written
     */
    public Path screenshot(Path file) throws IOException {
        Dimension before = driver.manage().window().getSize();
        Object h = ((JavascriptExecutor) driver).executeScript(
                "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)");
        int height = Math.min(6000, Math.max(before.getHeight(), ((Number) h).intValue() + 120));
        driver.manage().window().setSize(new Dimension(before.getWidth(), height));
        try {
            byte[] png = driver.getScreenshotAs(OutputType.BYTES);
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, png);
            return file;
        } finally {
            driver.manage().window().setSize(before);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            delete(profile);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
