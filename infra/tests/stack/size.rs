//! Every environment's template fits CloudFormation's limits. The deploy tool sends a
//! template of up to 51,200 bytes inline (`TemplateBody`) and a larger one through the
//! artifact bucket (`TemplateURL`), whose limit is 1 MB: that is the limit that matters.

use crate::common::{environments, template};

/// CloudFormation's limit on an inline `TemplateBody`, in bytes.
const TEMPLATE_BODY_LIMIT: usize = 51_200;
/// CloudFormation's limit on a template read from S3 (`TemplateURL`): 1 MB, taken as
/// 1,000,000 bytes to stay on the safe side of either reading of "MB".
const TEMPLATE_URL_LIMIT: usize = 1_000_000;

#[test]
fn every_template_fits_in_a_template_url() {
    for environment in environments() {
        let size = template(&environment).to_json_compact().len();
        let how = if size > TEMPLATE_BODY_LIMIT {
            "through the artifact bucket"
        } else {
            "inline"
        };
        eprintln!(
            "{environment}: {size} bytes, {:.0} % of TemplateBody's {TEMPLATE_BODY_LIMIT} (sent {how}), \
             {:.1} % of TemplateURL's {TEMPLATE_URL_LIMIT}",
            100.0 * size as f64 / TEMPLATE_BODY_LIMIT as f64,
            100.0 * size as f64 / TEMPLATE_URL_LIMIT as f64,
        );
        assert!(
            size <= TEMPLATE_URL_LIMIT,
            "{environment}'s template is {size} bytes, over the {TEMPLATE_URL_LIMIT} CloudFormation \
             reads from S3: split the stack (nested stacks) before it grows further"
        );
    }
}
