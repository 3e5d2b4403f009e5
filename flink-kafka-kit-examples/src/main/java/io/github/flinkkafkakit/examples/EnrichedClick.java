package io.github.flinkkafkakit.examples;

import java.util.Objects;

/**
 * One output record of {@code enrich}: a click with the country and plan of the user's profile
 * version in effect at the click's time ({@code null} when the user had none that old). A Flink
 * POJO, written as JSON.
 */
public class EnrichedClick {

    public String click;
    public String user;
    public String ts;
    public String url;
    public String country;
    public String plan;

    public EnrichedClick() {}

    EnrichedClick(String click, String user, String ts, String url, String country, String plan) {
        this.click = click;
        this.user = user;
        this.ts = ts;
        this.url = url;
        this.country = country;
        this.plan = plan;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof EnrichedClick)) {
            return false;
        }
        EnrichedClick e = (EnrichedClick) o;
        return Objects.equals(click, e.click)
                && Objects.equals(user, e.user)
                && Objects.equals(ts, e.ts)
                && Objects.equals(url, e.url)
                && Objects.equals(country, e.country)
                && Objects.equals(plan, e.plan);
    }

    @Override
    public int hashCode() {
        return Objects.hash(click, user, ts, url, country, plan);
    }

    @Override
    public String toString() {
        return "EnrichedClick{click="
                + click
                + ", user="
                + user
                + ", ts="
                + ts
                + ", url="
                + url
                + ", country="
                + country
                + ", plan="
                + plan
                + "}";
    }
}
