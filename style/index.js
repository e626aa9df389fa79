import './base.css';
import './results.css';
import './early-stopping.css';
